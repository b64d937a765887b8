//! Where each object of a list page is, found without parsing the page, so the watch decodes
//! one object at a time, as it hands each out.
//!
//! serde decodes a page (`{"metadata": {...}, "items": [...]}`) whole: every object of it is
//! built before the first is applied. Held as values, a page of 500 custom resources was some
//! 40,000 small blocks alive at once, and glibc spent about as much again as the parse on them
//! (docs/performance.md, fourth pass); held as text, each object was parsed twice. Here the page
//! is scanned for its items' byte spans, and each object is decoded from its span when it is
//! handed out, then dropped before the next: the allocator sees one object at a time.
//!
//! The scan is exact for any JSON text (escapes, strings holding brackets, items of any kind)
//! and cheap: inside an item it moves 64 bytes at a time with the depth guard's bit masks
//! ([`super::depth_blocks`]), a byte at a time only where the nesting comes back to the items'
//! level, near escapes, and in the small envelope. Text that is not JSON is refused (unbalanced,
//! unterminated) or gives spans serde refuses when it decodes them.

use std::ops::Range;

use super::depth_blocks::{skip_block, string_step, Nesting, BLOCK};

/// Nesting inside one item: the page's object, the `items` array, the item.
const ITEM_DEPTH: usize = 3;

/// The layout of a list page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Each item's bytes, in order.
    pub items: Vec<Range<usize>>,
    /// The `items` array, brackets included; `None` when the page has none (or it is `null`).
    pub array: Option<Range<usize>>,
}

impl Layout {
    /// The page without its items (`"items": []`): what serde reads for the list's metadata.
    pub fn envelope(&self, page: &[u8]) -> Vec<u8> {
        match &self.array {
            None => page.to_vec(),
            Some(array) => [&page[..=array.start], &page[array.end - 1..]].concat(),
        }
    }
}

/// Text that cannot be a JSON page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson;

/// The kind of item being scanned, and where it started.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// An object or a list: ends when the nesting comes back to the items' level.
    Nested(usize),
    /// A string: ends at its closing quote.
    Text(usize),
    /// A number, `true`, `false` or `null`: ends before the next comma, bracket or space.
    Literal(usize),
}

#[derive(Debug, Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Where the string being read started (after its quote).
    string_start: usize,
    /// The last string read at the top level: the key of the member whose value comes next.
    top_key: Range<usize>,
    /// Where the `items` array opened, while inside it.
    array_start: Option<usize>,
    item: Option<Item>,
    layout: Layout,
}

/// The spans of `page`'s items, and of its `items` array.
pub fn layout(page: &[u8]) -> Result<Layout, NotJson> {
    let mut scan = Scan::default();
    let mut i = 0;
    // After a block the fast path declined, bytes are read one at a time to its end.
    let mut stepping_until = 0;
    while i < page.len() {
        if scan.depth >= ITEM_DEPTH && !scan.escaped && i >= stepping_until {
            if let Some(block) = page.get(i..i + BLOCK) {
                let block: &[u8; BLOCK] = block.try_into().expect("a slice of BLOCK bytes");
                // Relative to the item's level: a block that closes the item "dips below zero".
                let at = Nesting { depth: scan.depth - ITEM_DEPTH, in_string: scan.in_string };
                match skip_block(block, at, usize::MAX) {
                    Some(after) => {
                        (scan.depth, scan.in_string) = (after.depth + ITEM_DEPTH, after.in_string);
                        i += BLOCK;
                        continue;
                    }
                    None => stepping_until = i + BLOCK,
                }
            }
        }
        i = scan.step(page, i)?;
    }
    if scan.depth != 0 || scan.in_string || scan.array_start.is_some() {
        return Err(NotJson);
    }
    Ok(scan.layout)
}

impl Scan {
    /// Moves past one structural byte or a run of string bytes from `i`; returns where it
    /// stopped.
    fn step(&mut self, page: &[u8], i: usize) -> Result<usize, NotJson> {
        if self.in_string {
            // A string left open at the end of the page is refused after the loop.
            let (next, closed) = string_step(page, i, &mut self.escaped);
            if closed {
                self.in_string = false;
                self.string_ended(next - 1);
            }
            return Ok(next);
        }
        let byte = page[i];
        if self.in_array() && self.depth == 2 {
            self.between_items(byte, i);
        }
        match byte {
            b'"' => {
                self.in_string = true;
                self.string_start = i + 1;
            }
            b'{' | b'[' => {
                if byte == b'[' && self.depth == 1 && self.layout.array.is_none() && self.top_key_is(page) {
                    self.array_start = Some(i);
                }
                self.depth += 1;
            }
            b'}' | b']' => {
                self.depth = self.depth.checked_sub(1).ok_or(NotJson)?;
                match (self.item, self.depth) {
                    (Some(Item::Nested(start)), 2) if self.in_array() => {
                        self.layout.items.push(start..i + 1);
                        self.item = None;
                    }
                    (_, 1) => {
                        if let Some(start) = self.array_start.take() {
                            self.layout.array = Some(start..i + 1);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(i + 1)
    }

    fn in_array(&self) -> bool {
        self.array_start.is_some()
    }

    /// At the items' level: a byte that starts an item, or ends a literal one.
    fn between_items(&mut self, byte: u8, i: usize) {
        let ends_literal = matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r');
        match self.item {
            Some(Item::Literal(start)) if ends_literal => {
                self.layout.items.push(start..i);
                self.item = None;
            }
            None => {
                self.item = match byte {
                    b'{' | b'[' => Some(Item::Nested(i)),
                    b'"' => Some(Item::Text(i)),
                    b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' | b':' => None,
                    _ => Some(Item::Literal(i)),
                };
            }
            _ => {}
        }
    }

    /// A string closed by the quote at `end`.
    fn string_ended(&mut self, end: usize) {
        match (self.item, self.depth) {
            (Some(Item::Text(start)), 2) if self.in_array() => {
                self.layout.items.push(start..end + 1);
                self.item = None;
            }
            (_, 1) => self.top_key = self.string_start..end,
            _ => {}
        }
    }

    /// Whether the member about to open is `items` (the last top-level string read is its key:
    /// only a colon can come between a key and its value).
    fn top_key_is(&self, page: &[u8]) -> bool {
        &page[self.top_key.clone()] == b"items"
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::value::RawValue;
    use serde_json::{json, Value};

    use super::*;

    /// What serde finds: each item's text, and the page's metadata.
    fn by_serde(page: &str) -> (Vec<String>, Value) {
        #[derive(Deserialize)]
        struct Page<'a> {
            #[serde(default)]
            metadata: Value,
            #[serde(borrow, default)]
            items: Option<Vec<&'a RawValue>>,
        }
        let parsed: Page = serde_json::from_str(page).unwrap();
        let items = parsed.items.unwrap_or_default().iter().map(|raw| raw.get().to_owned()).collect();
        (items, parsed.metadata)
    }

    fn by_layout(page: &str) -> (Vec<String>, Value) {
        let layout = layout(page.as_bytes()).unwrap();
        let items = layout.items.iter().map(|span| page[span.clone()].to_owned()).collect();
        let envelope: Value = serde_json::from_slice(&layout.envelope(page.as_bytes())).unwrap();
        (items, envelope.get("metadata").cloned().unwrap_or(Value::Null))
    }

    #[test]
    fn items_of_every_kind_are_found() {
        let page = r#"{"kind": "List", "metadata": {"continue": "c", "items": [1]}, "items": [
            {"a": "}", "b": ["]", {"c": "\"{"}]}, [1, [2]], "x\"]", 12.5e3 , true,null,{}, []
        ], "after": {"items": [9]}}"#;
        assert_eq!(by_layout(page), by_serde(page));
        assert_eq!(by_layout(page).0.len(), 8);
    }

    #[test]
    fn a_page_without_items_or_with_null_ones_has_none() {
        for page in [r#"{"metadata": {}}"#, r#"{"items": null, "metadata": {"x": 1}}"#, r#"{"items": []}"#] {
            assert_eq!(by_layout(page), by_serde(page), "{page}");
        }
        assert_eq!(layout(br#"{"items": null}"#).unwrap().array, None);
    }

    #[test]
    fn text_that_is_not_json_is_refused() {
        for page in [r#"{"items": [{"a": 1}"#, r#"{"items": ["x]}"#, "}", r#"{"items": [1]]}"#] {
            assert_eq!(layout(page.as_bytes()), Err(NotJson), "{page}");
        }
    }

    /// Long items cross many blocks, with escapes and brackets inside strings, at any offset.
    #[test]
    fn long_items_are_found_across_blocks() {
        let item = |i: usize| {
            json!({"metadata": {"name": format!("n{i}")}, "spec": {"text": "a\\\"b}]{[".repeat(i % 7),
                "list": (0..i % 30).map(|k| json!({"k": k, "s": "}".repeat(k % 3)})).collect::<Vec<_>>()}})
        };
        let page = json!({"apiVersion": "v1", "items": (0..60).map(item).collect::<Vec<_>>(), "metadata": {"resourceVersion": "7"}});
        for pretty in [false, true] {
            let text =
                if pretty { serde_json::to_string_pretty(&page) } else { serde_json::to_string(&page) };
            let text = text.unwrap();
            assert_eq!(by_layout(&text), by_serde(&text));
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z{}\\[\\]\"\\\\ ,:]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"\\]]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any page of any items, compact or pretty, gives the items and metadata serde gives.
        #[test]
        fn the_layout_is_what_serde_reads(
            items in prop::collection::vec(json_value(), 0..12),
            metadata in json_value(),
            before in any::<bool>(),
            pretty in any::<bool>(),
        ) {
            let write = |value: &Value| {
                if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) }.unwrap()
            };
            let (items, metadata) = (write(&Value::Array(items)), write(&metadata));
            let text = if before {
                format!(r#"{{"metadata": {metadata}, "items": {items}}}"#)
            } else {
                format!(r#"{{"kind":"List","items":{items},"metadata":{metadata}}}"#)
            };
            prop_assert_eq!(by_layout(&text), by_serde(&text));
        }
    }
}
