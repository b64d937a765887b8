//! Compressing an encoded OTLP request, at the configured algorithm and level, for either
//! protocol (gRPC compresses behind the message prefix, `frame`).
//!
//! A transport keeps one [`Compressor`] for its lifetime. zstd compresses with one context kept
//! from one request to the next: a context made for each request allocated its match tables
//! afresh (megabytes, mapped and faulted in again every time) and streamed the request through a
//! buffer of its own; the kept one compresses the whole request in one call, straight into the
//! output.

use std::io::Cursor;

use parking_lot::Mutex;

use crate::config::Compression;

/// An algorithm and level, with the zstd context kept between requests.
pub struct Compressor {
    compression: Compression,
    level: u32,
    /// Made at the first zstd request; `None` for the other algorithms.
    zstd: Mutex<Option<zstd::bulk::Compressor<'static>>>,
}

impl Compressor {
    pub fn new(compression: Compression, level: u32) -> Self {
        Compressor { compression, level, zstd: Mutex::new(None) }
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// `out` followed by `data` compressed (a gRPC message writes its prefix first, so the
    /// compressed bytes need no copy behind it); `data` copied for `None`.
    pub fn compress_after(&self, out: Vec<u8>, data: &[u8]) -> std::io::Result<Vec<u8>> {
        if self.compression != Compression::Zstd {
            return compress_after(out, self.compression, self.level, data);
        }
        // Sends of one transport come one at a time; should two meet, the second compresses
        // with a context of its own rather than wait.
        match self.zstd.try_lock() {
            Some(mut kept) => {
                let context = match kept.as_mut() {
                    Some(context) => context,
                    None => kept.insert(zstd::bulk::Compressor::new(self.level as i32)?),
                };
                zstd_after(context, out, data)
            }
            None => zstd_after(&mut zstd::bulk::Compressor::new(self.level as i32)?, out, data),
        }
    }

    /// `data` compressed on its own.
    pub fn compress(&self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        self.compress_after(Vec::new(), data)
    }
}

/// `out` followed by `data` compressed in one call of `context`, into room reserved for the
/// worst case (the bound zstd guarantees), so the call cannot run out of space.
fn zstd_after(
    context: &mut zstd::bulk::Compressor<'static>,
    mut out: Vec<u8>,
    data: &[u8],
) -> std::io::Result<Vec<u8>> {
    let start = out.len();
    out.reserve_exact(zstd::zstd_safe::compress_bound(data.len()));
    let mut cursor = Cursor::new(out);
    cursor.set_position(start as u64);
    context.compress_to_buffer(data, &mut cursor)?;
    Ok(cursor.into_inner())
}

/// The `content-encoding` of a body compressed with `compression`, `None` when uncompressed.
pub fn content_encoding(compression: Compression) -> Option<&'static str> {
    match compression {
        Compression::None => None,
        Compression::Gzip => Some("gzip"),
        Compression::Zstd => Some("zstd"),
    }
}

/// `data` compressed with `compression` at `level` (ignored for `None`, which copies).
pub fn compress(compression: Compression, level: u32, data: &[u8]) -> std::io::Result<Vec<u8>> {
    compress_after(Vec::with_capacity(data.len() / 4), compression, level, data)
}

/// `out` followed by `data` compressed with `compression` at `level` (a gRPC message writes
/// its prefix first, so the compressed bytes need no copy behind it).
pub fn compress_after(
    mut out: Vec<u8>,
    compression: Compression,
    level: u32,
    data: &[u8],
) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    match compression {
        Compression::None => {
            out.extend_from_slice(data);
            Ok(out)
        }
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::new(level));
            encoder.write_all(data)?;
            encoder.finish()
        }
        Compression::Zstd => {
            let mut encoder = zstd::stream::Encoder::new(out, level as i32)?;
            encoder.set_pledged_src_size(Some(data.len() as u64))?;
            encoder.write_all(data)?;
            encoder.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_context_compresses_request_after_request_like_a_fresh_one() {
        let kept = Compressor::new(Compression::Zstd, 3);
        let requests = [sample(), b"tiny".to_vec(), Vec::new(), sample().repeat(3), sample()];
        for (i, data) in requests.iter().enumerate() {
            let out = kept.compress_after(b"head".to_vec(), data).unwrap();
            assert_eq!(&out[..4], b"head", "request {i}");
            assert_eq!(zstd::decode_all(&out[4..]).unwrap(), *data, "request {i}");
            // The same bytes a context made for this request alone writes: nothing of the
            // previous request is carried over.
            assert_eq!(out[4..], zstd::bulk::compress(data, 3).unwrap()[..], "request {i}");
        }
    }

    #[test]
    fn a_busy_context_is_not_waited_for() {
        let kept = Compressor::new(Compression::Zstd, 3);
        let data = sample();
        let _busy = kept.zstd.lock();
        assert_eq!(zstd::decode_all(&kept.compress(&data).unwrap()[..]).unwrap(), data);
    }

    #[test]
    fn the_other_algorithms_compress_as_before() {
        let data = sample();
        for (compression, level) in [(Compression::None, 0), (Compression::Gzip, 6)] {
            let kept = Compressor::new(compression, level);
            assert_eq!(kept.compress(&data).unwrap(), compress(compression, level, &data).unwrap());
        }
    }

    fn sample() -> Vec<u8> {
        (0..20_000u32)
            .flat_map(|i| format!("namespace=tenant-{:03} phase=Ready {i};", i % 50).into_bytes())
            .collect()
    }

    #[test]
    fn gzip_round_trips_and_a_higher_level_is_not_larger() {
        let data = sample();
        let fast = compress(Compression::Gzip, 1, &data).unwrap();
        let best = compress(Compression::Gzip, 9, &data).unwrap();
        assert!(best.len() <= fast.len() && fast.len() < data.len() / 3, "{} {}", fast.len(), best.len());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&best[..]), &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn zstd_round_trips_at_every_level_it_accepts() {
        let data = sample();
        for level in Compression::Zstd.levels().unwrap() {
            let packed = compress(Compression::Zstd, level, &data).unwrap();
            assert!(packed.len() < data.len() / 3, "level {level}: {}", packed.len());
            assert_eq!(zstd::decode_all(&packed[..]).unwrap(), data, "level {level}");
        }
    }

    #[test]
    fn compressed_after_a_prefix_reads_back_as_the_data() {
        let data = sample();
        for compression in [Compression::Gzip, Compression::Zstd] {
            let level = compression.default_level();
            let out = compress_after(b"head".to_vec(), compression, level, &data).unwrap();
            assert_eq!(&out[..4], b"head");
            let mut back = Vec::new();
            match compression {
                Compression::Gzip => {
                    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&out[4..]), &mut back)
                        .unwrap();
                }
                _ => back = zstd::decode_all(&out[4..]).unwrap(),
            }
            assert_eq!(back, data, "{compression:?}");
        }
    }

    #[test]
    fn none_sends_the_body_as_it_is() {
        assert_eq!(compress(Compression::None, 0, b"abc").unwrap(), b"abc");
        assert_eq!(content_encoding(Compression::None), None);
        assert_eq!(content_encoding(Compression::Zstd), Some("zstd"));
    }
}
