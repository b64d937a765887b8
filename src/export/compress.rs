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
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            use std::io::Write;
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 4),
                flate2::Compression::new(level),
            );
            encoder.write_all(data)?;
            encoder.finish()
        }
        Compression::Zstd => zstd::bulk::compress(data, level as i32),
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
    fn none_sends_the_body_as_it_is() {
        assert_eq!(compress(Compression::None, 0, b"abc").unwrap(), b"abc");
        assert_eq!(content_encoding(Compression::None), None);
        assert_eq!(content_encoding(Compression::Zstd), Some("zstd"));
    }
}
