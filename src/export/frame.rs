//! An encoded request in the one buffer every transport sends it from.
//!
//! A gRPC message travels behind a 5-byte prefix (a compressed flag and the length, big-endian).
//! The request is written once, with that prefix reserved in front of it, so an uncompressed
//! gRPC send hands this very buffer to HTTP/2 (`unary`) and HTTP/protobuf posts the slice after
//! the prefix, neither copying it; only compression reads it again, writing the compressed
//! message straight behind a prefix of its own.

use bytes::Bytes;

use super::compress::Compressor;

/// Length of the gRPC message prefix.
const GRPC_PREFIX: usize = 5;

/// An encoded `ExportMetricsServiceRequest` and its number of points.
#[derive(Clone, Debug)]
pub struct EncodedRequest {
    /// The request's protobuf.
    pub bytes: Bytes,
    /// `bytes` behind the prefix of an uncompressed gRPC message (the same allocation).
    buffer: Bytes,
    /// Whether the prefix holds the length: false for a request too long for it, which only
    /// tonic's client reports.
    framed: bool,
    pub points: u64,
}

impl EncodedRequest {
    /// A request of `len` bytes with `points` points, which `write` appends to the buffer it is
    /// given (sized for it, so it never grows, and with the gRPC prefix already in). `buffer`
    /// is an empty one to reuse (`into_buffer`), or a new one.
    pub(super) fn write(
        mut buffer: Vec<u8>,
        len: usize,
        points: u64,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Self {
        buffer.clear();
        buffer.reserve_exact(GRPC_PREFIX + len);
        let length = u32::try_from(len).ok();
        buffer.push(0);
        buffer.extend_from_slice(&length.unwrap_or(0).to_be_bytes());
        write(&mut buffer);
        debug_assert_eq!(buffer.len(), GRPC_PREFIX + len, "the request is as long as announced");
        let buffer = Bytes::from(buffer);
        EncodedRequest { bytes: buffer.slice(GRPC_PREFIX..), buffer, framed: length.is_some(), points }
    }

    /// The request as one uncompressed gRPC message, prefix included, when it fits one.
    pub fn grpc_frame(&self) -> Option<&Bytes> {
        self.framed.then_some(&self.buffer)
    }

    /// The request as one gRPC message compressed by `compressor`, prefix included.
    pub fn compressed_grpc_frame(&self, compressor: &Compressor) -> std::io::Result<Bytes> {
        let mut frame = compressor.compress_after(vec![1, 0, 0, 0, 0], &self.bytes)?;
        let len = u32::try_from(frame.len() - GRPC_PREFIX)
            .map_err(|_| std::io::Error::other("the compressed request is too long for one gRPC message"))?;
        frame[1..GRPC_PREFIX].copy_from_slice(&len.to_be_bytes());
        Ok(frame.into())
    }

    /// The request's buffer, emptied, to write the next request of the export in (its pages are
    /// already mapped), unless something still holds the request: the queue, because it was
    /// not delivered, or the transport.
    pub(super) fn into_buffer(self) -> Option<Vec<u8>> {
        drop(self.bytes);
        let mut buffer = self.buffer.try_into_mut().ok()?;
        // Emptied before it becomes a `Vec`, which would otherwise move the bytes to its start.
        buffer.clear();
        Some(buffer.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grpc_frame_is_the_prefix_then_the_request_in_one_buffer() {
        let request =
            EncodedRequest::write(Vec::new(), 300, 2, |buf| buf.extend((0..300u32).map(|i| i as u8)));
        assert_eq!(request.points, 2);
        assert_eq!(request.bytes.len(), 300);
        assert!(request.bytes.iter().enumerate().all(|(i, &b)| b == i as u8));
        let frame = request.grpc_frame().unwrap();
        assert_eq!(frame[..GRPC_PREFIX], [0, 0, 0, 1, 44], "uncompressed, 300 bytes");
        assert_eq!(frame[GRPC_PREFIX..], request.bytes[..]);
        assert_eq!(frame[GRPC_PREFIX..].as_ptr(), request.bytes.as_ptr(), "not a copy");
    }

    #[test]
    fn a_buffer_is_reused_once_nothing_else_holds_its_request() {
        let first = EncodedRequest::write(Vec::new(), 3000, 1, |buf| buf.resize(buf.len() + 3000, 7));
        let held = first.clone();
        assert!(first.into_buffer().is_none(), "a clone still holds it");
        let (ptr, capacity) = (held.bytes.as_ptr(), held.grpc_frame().unwrap().len());
        let buffer = held.into_buffer().unwrap();
        assert!(buffer.is_empty() && buffer.capacity() >= capacity);
        assert_eq!(buffer.as_ptr().wrapping_add(GRPC_PREFIX), ptr, "the same allocation");
        let second = EncodedRequest::write(buffer, 2, 1, |buf| buf.extend_from_slice(b"ab"));
        assert_eq!(second.grpc_frame().unwrap()[..], *b"\0\0\0\0\x02ab");
        assert_eq!(second.bytes[..], *b"ab");
    }

    #[test]
    fn a_compressed_frame_is_flagged_and_holds_the_compressed_request() {
        let request = EncodedRequest::write(Vec::new(), 4000, 1, |buf| buf.resize(buf.len() + 4000, 9));
        let frame =
            request.compressed_grpc_frame(&Compressor::new(crate::config::Compression::Zstd, 3)).unwrap();
        assert_eq!(frame[0], 1, "compressed");
        let len = u32::from_be_bytes(frame[1..GRPC_PREFIX].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - GRPC_PREFIX);
        assert!(len < 100, "{len} bytes for 4000 nines");
        assert_eq!(zstd::decode_all(&frame[GRPC_PREFIX..]).unwrap(), request.bytes[..]);
    }

    #[test]
    fn an_empty_request_is_a_prefix_alone() {
        let request = EncodedRequest::write(Vec::new(), 0, 0, |_| {});
        assert!(request.bytes.is_empty());
        assert_eq!(request.grpc_frame().unwrap()[..], [0, 0, 0, 0, 0]);
    }
}
