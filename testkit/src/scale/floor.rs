//! The parse floor: what a bare `serde_json::Value` parse of the same objects costs, one object
//! at a time, on this thread's CPU clock. The agent's initial sync and idle exports are reported
//! as multiples of it (issue 17: initial sync ≤ 2× the floor, an idle export ≤ 0.25×).
//!
//! Measured in the harness's process, the parse allocates among the fake API server's objects
//! (hundreds of MB on the README's set) and the floor moved by a third between runs of the same
//! hour. So the harness binary measures it in a process of its own as well, as the agent runs:
//! the objects are written to a file, and the harness runs itself with `--parse-floor FILE`
//! ([`floor_in_own_process`], [`parse_floor_of_file`]).

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub use crate::measure::thread_cpu;

/// The least thread CPU time of `passes` passes parsing every object of `objects` into a
/// `serde_json::Value`, one by one. `objects` are the objects' JSON as the server serves them.
pub fn parse_floor(objects: &[Vec<u8>], passes: u32) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..passes.max(1) {
        let start = thread_cpu();
        for bytes in objects {
            let value = serde_json::from_slice::<serde_json::Value>(bytes).expect("the harness's own JSON");
            drop(std::hint::black_box(value));
        }
        best = best.min(thread_cpu().saturating_sub(start));
    }
    best
}

/// Writes `objects` to `path`, each as its length (4 bytes, little-endian) and its bytes.
pub fn write_objects(path: &Path, objects: &[Vec<u8>]) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    for bytes in objects {
        let length = u32::try_from(bytes.len()).map_err(|_| io::Error::other("an object over 4 GiB"))?;
        out.write_all(&length.to_le_bytes())?;
        out.write_all(bytes)?;
    }
    out.flush()
}

/// The objects [`write_objects`] wrote.
pub fn read_objects(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let mut text = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut text)?;
    let mut objects = Vec::new();
    let mut rest = &text[..];
    while let Some((length, after)) = rest.split_first_chunk::<4>() {
        let length = u32::from_le_bytes(*length) as usize;
        let bytes = after.get(..length).ok_or_else(|| io::Error::other("a truncated object file"))?;
        objects.push(bytes.to_vec());
        rest = &after[length..];
    }
    Ok(objects)
}

/// What `--parse-floor FILE PASSES` prints: the floor of the objects in `FILE`, in nanoseconds.
pub fn parse_floor_of_file(path: &Path, passes: u32) -> io::Result<u128> {
    let objects = read_objects(path)?;
    Ok(parse_floor(&objects, passes).as_nanos())
}

/// The floor of `objects` measured by `program --parse-floor FILE PASSES` (the harness binary),
/// with the objects in a file under `dir`.
pub fn floor_in_own_process(
    program: &Path,
    objects: &[Vec<u8>],
    passes: u32,
    dir: &Path,
) -> io::Result<Duration> {
    let file = dir.join("floor-objects");
    write_objects(&file, objects)?;
    let output = Command::new(program).arg("--parse-floor").arg(&file).arg(passes.to_string()).output();
    let _ = std::fs::remove_file(&file);
    let output = output?;
    let text = String::from_utf8_lossy(&output.stdout);
    let nanos: Option<u64> = text.trim().parse().ok();
    match (output.status.success(), nanos) {
        (true, Some(nanos)) => Ok(Duration::from_nanos(nanos)),
        _ => Err(io::Error::other(format!(
            "{} --parse-floor: {}, printed {text:?}, {}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}

/// The floor, measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    /// The parse in a process of its own, when the harness could run one.
    pub own_process: Option<Duration>,
    /// The same parse in the harness's process (as reported before the floor had a process of
    /// its own).
    pub in_harness: Duration,
    pub objects: usize,
    pub passes: u32,
}

impl Floor {
    /// The floor the ratios are taken against: the one measured in a process of its own when
    /// there is one.
    pub fn cpu(&self) -> Duration {
        self.own_process.unwrap_or(self.in_harness)
    }

    /// `cpu` as a multiple of the floor (infinite when the floor is 0, i.e. no objects).
    pub fn ratio(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() / self.cpu().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_grows_with_the_objects() {
        let one = serde_json::to_vec(&super::super::cluster(1, 0)).unwrap();
        let objects = vec![one; 200];
        let floor = parse_floor(&objects, 3);
        assert!(floor > Duration::ZERO);
        // Nothing to parse costs only the two clock reads.
        assert!(parse_floor(&[], 1) < floor);
    }

    #[test]
    fn objects_read_back_as_written() {
        let dir = std::env::temp_dir().join(format!("kso-floor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("objects");
        let objects =
            vec![b"{}".to_vec(), Vec::new(), serde_json::to_vec(&super::super::cluster(2, 0)).unwrap()];
        write_objects(&file, &objects).unwrap();
        assert_eq!(read_objects(&file).unwrap(), objects);
        write_objects(&file, &objects[2..]).unwrap();
        assert!(parse_floor_of_file(&file, 1).unwrap() > 0);
        std::fs::write(&file, [9, 0, 0, 0, b'{']).unwrap();
        assert!(read_objects(&file).is_err(), "a truncated file is refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The program is given the objects' file and the passes, and what it prints is the floor;
    /// anything else is an error that says what the program did.
    #[cfg(unix)]
    #[test]
    fn the_floor_of_another_process_is_what_it_prints() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kso-floor-child-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = |name: &str, body: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let objects = vec![b"{}".to_vec(); 3];
        // Prints 1234 when given `--parse-floor <a file of 3 objects> 2`.
        let checks =
            r#"[ "$1" = --parse-floor ] && [ "$(wc -c < "$2")" -eq 18 ] && [ "$3" = 2 ] && echo 1234"#;
        let floor = floor_in_own_process(&program("checks", checks), &objects, 2, &dir).unwrap();
        assert_eq!(floor, Duration::from_nanos(1234));
        assert!(!dir.join("floor-objects").exists(), "the objects' file is removed");
        let error =
            floor_in_own_process(&program("fails", "echo no >&2; exit 3"), &objects, 2, &dir).unwrap_err();
        assert!(error.to_string().contains("no"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
