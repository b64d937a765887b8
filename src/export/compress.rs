//! Compressing an encoded OTLP request body for `http/protobuf`, at the configured level (gRPC
//! compresses in the transport, at each algorithm's default level).

use crate::config::Compression;

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
