//! Attributes kept as OTLP protobuf: the bytes of `NumberDataPoint.attributes` (field 7, one
//! `KeyValue` message each), exactly as `prost` writes them for `opentelemetry_proto`'s types.
//!
//! A table encodes a point's attributes once, when the point is written, so an export copies
//! them instead of encoding them again; [`attributes`] reads them back without allocating, and
//! [`decode`] turns them into `KeyValue`s where a slow path is fine. Field numbers are those of
//! `opentelemetry/proto/common/v1/common.proto`: `KeyValue.key = 1`, `KeyValue.value = 2`;
//! `AnyValue.string_value = 1`, `bool_value = 2`, `int_value = 3`, `double_value = 4`,
//! `array_value = 5` (arrays, rare in attributes, are written by `prost` itself).

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use prost::Message;

/// Wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

/// `NumberDataPoint.attributes = 7`, length-delimited: the first byte of every attribute.
const ATTRIBUTE_TAG: u8 = 7 << 3 | LEN;

pub(crate) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A one-byte tag (fields 1 to 15).
fn tag(field: u8, wire: u8) -> u8 {
    field << 3 | wire
}

/// Length of a length-delimited field with a body of `len` bytes (one-byte tag).
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_bytes(buf: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    buf.push(tag(field, LEN));
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// The `AnyValue` of one attribute value: the common kinds written here, arrays by `prost`.
enum Encoded<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Other(Vec<u8>),
}

impl Encoded<'_> {
    fn of(value: &Value) -> Encoded<'_> {
        match value {
            Value::String(s) => Encoded::Str(s.as_str()),
            Value::Bool(b) => Encoded::Bool(*b),
            Value::I64(i) => Encoded::Int(*i),
            Value::F64(f) => Encoded::Double(*f),
            other => Encoded::Other(AnyValue::from(other.clone()).encode_to_vec()),
        }
    }

    /// Length of the `AnyValue` message. A oneof member is written even when it is its type's
    /// default (an empty string, `false`, 0), as `prost` does.
    fn len(&self) -> usize {
        match self {
            Encoded::Str(s) => field_len(s.len()),
            Encoded::Bool(_) => 2,
            Encoded::Int(i) => 1 + varint_len(*i as u64),
            Encoded::Double(_) => 9,
            Encoded::Other(bytes) => bytes.len(),
        }
    }

    fn put(&self, buf: &mut Vec<u8>) {
        match self {
            Encoded::Str(s) => put_bytes(buf, 1, s.as_bytes()),
            Encoded::Bool(b) => buf.extend_from_slice(&[tag(2, VARINT), u8::from(*b)]),
            Encoded::Int(i) => {
                buf.push(tag(3, VARINT));
                put_varint(buf, *i as u64);
            }
            Encoded::Double(f) => {
                buf.push(tag(4, FIXED64));
                buf.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Encoded::Other(bytes) => buf.extend_from_slice(bytes),
        }
    }
}

/// Appends `attributes` as `NumberDataPoint.attributes` fields. An empty key is left out, as
/// proto3 leaves out an empty string.
pub fn put_attributes(buf: &mut Vec<u8>, attributes: &[KeyValue]) {
    for kv in attributes {
        let key = kv.key.as_str();
        let value = Encoded::of(&kv.value);
        buf.push(ATTRIBUTE_TAG);
        put_varint(buf, key_value_len(key, &value) as u64);
        if !key.is_empty() {
            put_bytes(buf, 1, key.as_bytes());
        }
        buf.push(tag(2, LEN));
        put_varint(buf, value.len() as u64);
        value.put(buf);
    }
}

/// Length of one `KeyValue` message.
fn key_value_len(key: &str, value: &Encoded) -> usize {
    let key_len = if key.is_empty() { 0 } else { field_len(key.len()) };
    key_len + field_len(value.len())
}

/// How many bytes [`put_attributes`] writes for `attributes`.
pub fn encoded_len(attributes: &[KeyValue]) -> usize {
    attributes.iter().map(|kv| field_len(key_value_len(kv.key.as_str(), &Encoded::of(&kv.value)))).sum()
}

/// `attributes` encoded by [`put_attributes`].
pub fn encode(attributes: &[KeyValue]) -> Vec<u8> {
    let mut buf = Vec::new();
    put_attributes(&mut buf, attributes);
    buf
}

/// One attribute's value, borrowed from the encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttributeValue<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Any other `AnyValue` (an array): the message's bytes.
    Other(&'a [u8]),
}

/// One attribute read from the encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attribute<'a> {
    pub key: &'a str,
    pub value: AttributeValue<'a>,
    /// The whole field, tag included, as stored.
    pub bytes: &'a [u8],
}

/// The attributes in `bytes` (written by [`put_attributes`]), in order, without allocating.
pub fn attributes(bytes: &[u8]) -> Attributes<'_> {
    Attributes { rest: bytes }
}

/// Iterator of [`attributes`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

/// Reads a varint at the start of `bytes`: its value and the bytes after it.
fn read_varint(bytes: &[u8]) -> (u64, &[u8]) {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value, &bytes[i + 1..]);
        }
    }
    panic!("encoded attributes: truncated varint")
}

/// Splits a length-delimited body off the start of `bytes` (just after its tag).
fn read_len(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = read_varint(bytes);
    rest.split_at(len as usize)
}

fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("encoded attributes hold strings written from &str")
}

fn read_value(any: &[u8]) -> AttributeValue<'_> {
    match any.split_first() {
        Some((&t, rest)) if t == tag(1, LEN) => match read_len(rest) {
            (s, []) => AttributeValue::Str(utf8(s)),
            _ => AttributeValue::Other(any),
        },
        Some((&t, rest)) if t == tag(2, VARINT) => match read_varint(rest) {
            (b, []) => AttributeValue::Bool(b != 0),
            _ => AttributeValue::Other(any),
        },
        Some((&t, rest)) if t == tag(3, VARINT) => match read_varint(rest) {
            (i, []) => AttributeValue::Int(i as i64),
            _ => AttributeValue::Other(any),
        },
        Some((&t, rest)) if t == tag(4, FIXED64) && rest.len() == 8 => {
            AttributeValue::Double(f64::from_bits(u64::from_le_bytes(rest.try_into().expect("8 bytes"))))
        }
        _ => AttributeValue::Other(any),
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        let (&first, after_tag) = self.rest.split_first()?;
        assert_eq!(first, ATTRIBUTE_TAG, "encoded attributes: not an attribute field");
        let (mut body, rest) = read_len(after_tag);
        let bytes = &self.rest[..self.rest.len() - rest.len()];
        self.rest = rest;
        let (mut key, mut value) = ("", AttributeValue::Other(&[]));
        while let Some((&t, after)) = body.split_first() {
            let (field, next) = read_len(after);
            match t {
                t if t == tag(1, LEN) => key = utf8(field),
                t if t == tag(2, LEN) => value = read_value(field),
                _ => panic!("encoded attributes: unexpected field in a KeyValue"),
            }
            body = next;
        }
        Some(Attribute { key, value, bytes })
    }
}

impl AttributeValue<'_> {
    /// As an OpenTelemetry value.
    pub fn to_value(self) -> Value {
        match self {
            AttributeValue::Str(s) => Value::String(s.to_owned().into()),
            AttributeValue::Bool(b) => Value::Bool(b),
            AttributeValue::Int(i) => Value::I64(i),
            AttributeValue::Double(f) => Value::F64(f),
            AttributeValue::Other(bytes) => {
                let any = AnyValue::decode(bytes).expect("encoded attributes hold valid AnyValues");
                from_any(any.value)
            }
        }
    }
}

/// An `AnyValue` back as the OpenTelemetry value it was made from (an empty array comes back
/// as an empty array of strings: the encoding does not keep an empty array's type).
fn from_any(value: Option<any_value::Value>) -> Value {
    use any_value::Value as Any;
    match value {
        Some(Any::StringValue(s)) => Value::String(s.into()),
        Some(Any::BoolValue(b)) => Value::Bool(b),
        Some(Any::IntValue(i)) => Value::I64(i),
        Some(Any::DoubleValue(f)) => Value::F64(f),
        Some(Any::ArrayValue(array)) => {
            let values: Vec<Option<Any>> = array.values.into_iter().map(|v| v.value).collect();
            let all = |f: fn(&Any) -> bool| values.iter().all(|v| v.as_ref().is_some_and(f));
            let array = if values.is_empty() || all(|v| matches!(v, Any::StringValue(_))) {
                let strings = values.into_iter().flatten().filter_map(|v| match v {
                    Any::StringValue(s) => Some(StringValue::from(s)),
                    _ => None,
                });
                Array::String(strings.collect())
            } else if all(|v| matches!(v, Any::BoolValue(_))) {
                Array::Bool(
                    values
                        .into_iter()
                        .flatten()
                        .filter_map(|v| match v {
                            Any::BoolValue(b) => Some(b),
                            _ => None,
                        })
                        .collect(),
                )
            } else if all(|v| matches!(v, Any::IntValue(_))) {
                Array::I64(
                    values
                        .into_iter()
                        .flatten()
                        .filter_map(|v| match v {
                            Any::IntValue(i) => Some(i),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                Array::F64(
                    values
                        .into_iter()
                        .flatten()
                        .filter_map(|v| match v {
                            Any::DoubleValue(f) => Some(f),
                            _ => None,
                        })
                        .collect(),
                )
            };
            Value::Array(array)
        }
        other => Value::String(format!("{other:?}").into()),
    }
}

/// The attributes in `bytes` as `KeyValue`s (allocates; for tests, `render` and aggregations).
pub fn decode(bytes: &[u8]) -> Vec<KeyValue> {
    attributes(bytes).map(|a| KeyValue::new(a.key.to_owned(), a.value.to_value())).collect()
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::metrics::v1::NumberDataPoint;

    use super::*;

    fn samples() -> Vec<KeyValue> {
        vec![
            KeyValue::new("name", "x".repeat(300)),
            KeyValue::new("", ""),
            KeyValue::new("n", -7_i64),
            KeyValue::new("big", i64::MAX),
            KeyValue::new("ok", false),
            KeyValue::new("ratio", 0.25),
            KeyValue::new("list", Value::Array(Array::I64(vec![1, -2]))),
            KeyValue::new("names", Value::Array(Array::String(vec!["a".into(), "".into()]))),
        ]
    }

    #[test]
    fn the_bytes_are_prosts() {
        let attributes = samples();
        let want = NumberDataPoint {
            attributes: attributes
                .iter()
                .map(|kv| opentelemetry_proto::tonic::common::v1::KeyValue {
                    key: kv.key.to_string(),
                    value: Some(AnyValue::from(kv.value.clone())),
                    key_strindex: 0,
                })
                .collect(),
            ..Default::default()
        };
        assert_eq!(encode(&attributes), want.encode_to_vec());
    }

    #[test]
    fn read_back_as_written() {
        let attributes = samples();
        let bytes = encode(&attributes);
        assert_eq!(bytes.len(), encoded_len(&attributes));
        assert_eq!(decode(&bytes), attributes);
        let read: Vec<_> = super::attributes(&bytes).collect();
        assert_eq!(read[0].key, "name");
        assert_eq!(read[2].value, AttributeValue::Int(-7));
        assert_eq!(read[4].value, AttributeValue::Bool(false));
        assert!(matches!(read[6].value, AttributeValue::Other(_)));
        let joined: Vec<u8> = read.iter().flat_map(|a| a.bytes.iter().copied()).collect();
        assert_eq!(joined, bytes, "each attribute's bytes, in order, are the whole");
        assert_eq!(super::attributes(&[]).count(), 0);
    }
}
