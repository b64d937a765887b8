//! Which objects a shard owns (SPEC §8): kube-state-metrics' placement, FNV-1a 64-bit of
//! `metadata.uid` then jump consistent hash (Lamping and Veach) over the number of shards, so an
//! object lands on the shard number kube-state-metrics would give it, and a change of the number
//! of shards moves as few objects as possible.

use opentelemetry::KeyValue;

/// The attribute aggregate points of a sharded agent carry: its shard number, as text.
pub const SHARD_ATTRIBUTE: &str = "kube_state_otel.shard";

/// One shard of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
}

impl Shard {
    /// Whether the object with `uid` is this shard's.
    pub fn owns(&self, uid: &str) -> bool {
        jump_hash(fnv1a64(uid.as_bytes()), self.total) == self.index
    }

    /// `kube_state_otel.shard = "<index>"`.
    pub fn attribute(&self) -> KeyValue {
        KeyValue::new(SHARD_ATTRIBUTE, self.index.to_string())
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Jump consistent hash: the bucket in `0..buckets` of `key`.
pub fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let (mut bucket, mut next): (i64, i64) = (-1, 0);
    while next < i64::from(buckets) {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        next = ((bucket + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    bucket.max(0) as u32
}

/// The StatefulSet ordinal at the end of a pod's host name (`kube-state-otel-2` → 2).
pub fn ordinal(host: &str) -> Option<u32> {
    let (_, digits) = host.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_hash_gives_the_reference_buckets() {
        // The reference implementation's published vectors: for each key, the bucket with
        // 1, 2, 3, ... buckets.
        let cases: [(u64, &[u32]); 4] = [
            (0, &[0; 20]),
            (1, &[0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17]),
            (0xdead_beef, &[0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16]),
            (0x0ddc_0ffe_ebad_f00d, &[0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15]),
        ];
        for (key, buckets) in cases {
            for (i, want) in buckets.iter().enumerate() {
                assert_eq!(jump_hash(key, i as u32 + 1), *want, "key {key:#x}, {} buckets", i + 1);
            }
        }
        let hundred = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
        for (key, want) in hundred.iter().enumerate() {
            assert_eq!(jump_hash(key as u64, 100), *want);
        }
        assert_eq!(jump_hash(10_863_919_174_838_991, 11), 6);
        assert_eq!(jump_hash(2_016_238_256_797_177_309, 11), 3);
        assert_eq!(jump_hash(2, 100_001), 80_343);
        assert_eq!(jump_hash(2202, 100_001), 15_018);
    }

    #[test]
    fn fnv1a64_gives_the_reference_hashes() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_object_has_exactly_one_shard_and_growing_moves_few() {
        let uids: Vec<String> = (0..3000).map(|i| format!("6f1c2a0e-0000-4000-8000-{i:012}")).collect();
        let of = |uid: &str, total| {
            (0..total).filter(|&i| Shard { index: i, total }.owns(uid)).collect::<Vec<_>>()
        };
        let mut per_shard = [0usize; 3];
        for uid in &uids {
            let owners = of(uid, 3);
            assert_eq!(owners.len(), 1, "{uid}: {owners:?}");
            per_shard[owners[0] as usize] += 1;
        }
        assert!(per_shard.iter().all(|n| (800..1200).contains(n)), "balanced: {per_shard:?}");
        // From 3 to 4 shards about a quarter of the objects move, all of them to the new shard.
        let moved: Vec<&String> = uids.iter().filter(|u| of(u, 3) != of(u, 4)).collect();
        assert!(moved.iter().all(|u| of(u, 4) == [3]));
        assert!((600..900).contains(&moved.len()), "{}", moved.len());
    }

    #[test]
    fn ordinals_come_from_the_end_of_the_host_name() {
        assert_eq!(ordinal("kube-state-otel-2"), Some(2));
        assert_eq!(ordinal("kso-10"), Some(10));
        assert_eq!(ordinal("kube-state-otel-7d9f-abcde"), None);
        assert_eq!(ordinal("kso"), None);
        assert_eq!(ordinal("kso-"), None);
    }
}
