//! Watching the config file for changes. The file's directory is watched, not the file: editors
//! write a new file and rename it over the old one, and Kubernetes updates a mounted ConfigMap
//! by pointing the `..data` symlink at a new timestamped directory (the file itself is a
//! symlink through `..data`), so the file's own inode never changes. Bursts of events are
//! debounced into one change.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Quiet time after the last event before a change is reported.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// A running watch; dropping it stops watching.
pub struct ConfigWatch {
    _watcher: RecommendedWatcher,
    events: mpsc::UnboundedReceiver<()>,
}

impl ConfigWatch {
    /// Watches the directory of `path` for events on the file or on the ConfigMap's `..`
    /// entries.
    pub fn start(path: &Path) -> notify::Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name: OsString = path.file_name().map(OsString::from).unwrap_or_default();
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                Ok(event) if event.paths.iter().any(|p| concerns(p, &name)) => {
                    let _ = tx.send(());
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "config file watch error"),
            })?;
        watcher.watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(ConfigWatch { _watcher: watcher, events })
    }

    /// Waits for the next change (after `DEBOUNCE` without further events).
    pub async fn changed(&mut self) -> Option<()> {
        debounced(&mut self.events, DEBOUNCE).await
    }
}

/// The config file itself, or a ConfigMap volume's `..data` / `..<timestamp>` entries.
fn concerns(path: &Path, config_name: &OsString) -> bool {
    match path.file_name() {
        Some(name) => name == config_name || name.to_string_lossy().starts_with(".."),
        None => false,
    }
}

/// The first event, followed by `quiet` without any; `None` once the sender is gone.
async fn debounced(events: &mut mpsc::UnboundedReceiver<()>, quiet: Duration) -> Option<()> {
    events.recv().await?;
    loop {
        tokio::select! {
            more = events.recv() => {
                if more.is_none() {
                    return Some(());
                }
            }
            _ = tokio::time::sleep(quiet) => return Some(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_and_the_configmap_entries_concern_the_watch() {
        let name = OsString::from("config.yaml");
        assert!(concerns(Path::new("/etc/kso/config.yaml"), &name));
        assert!(concerns(Path::new("/etc/kso/..data"), &name));
        assert!(concerns(Path::new("/etc/kso/..2026_11_23_10_00_00.123"), &name));
        assert!(!concerns(Path::new("/etc/kso/other.yaml"), &name));
        assert!(!concerns(Path::new("/etc/kso/.config.yaml.swp"), &name));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_events_is_one_change_after_a_quiet_second() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let started = tokio::time::Instant::now();
        let burst = tokio::spawn(async move {
            for _ in 0..5 {
                tx.send(()).unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            tx
        });
        assert_eq!(debounced(&mut rx, DEBOUNCE).await, Some(()));
        // Last event at 1.2 s, then one quiet second.
        assert_eq!(started.elapsed(), Duration::from_millis(2200));
        let tx = burst.await.unwrap();
        tx.send(()).unwrap();
        drop(tx);
        assert_eq!(debounced(&mut rx, DEBOUNCE).await, Some(()));
        assert_eq!(debounced(&mut rx, DEBOUNCE).await, None);
    }
}
