//! Watching the config file for changes. The file's directory is watched, not the file: editors
//! write a new file and rename it over the old one, and Kubernetes updates a mounted ConfigMap
//! by pointing the `..data` symlink at a new timestamped directory (the file itself is a
//! symlink through `..data`), so the file's own inode never changes. Bursts of events are
//! debounced into one change, and a change is only reported when the file's content differs
//! from the content last seen: opening the file (the reload's own read) and touching it produce
//! events too, and each of those would otherwise start another reload.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Quiet time after the last event before a change is reported.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// A running watch; dropping it stops watching.
pub struct ConfigWatch {
    _watcher: RecommendedWatcher,
    changes: ContentChanges,
}

impl ConfigWatch {
    /// Watches the directory of `path`, and of each file in `referenced` (files whose content
    /// is part of the config, such as a kube-state-metrics document), for events on the files
    /// or on a ConfigMap's `..` entries; their current content is the baseline a change is told
    /// from.
    pub fn start(path: &Path, referenced: &[PathBuf]) -> notify::Result<Self> {
        let paths: Vec<PathBuf> =
            std::iter::once(path.to_path_buf()).chain(referenced.iter().cloned()).collect();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut names: Vec<OsString> = Vec::new();
        for path in &paths {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
            names.push(path.file_name().map(OsString::from).unwrap_or_default());
        }
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                // Events were lost (the kernel queue overflowed): only the content can tell.
                Ok(event) if event.need_rescan() => {
                    let _ = tx.send(());
                }
                Ok(event)
                    if may_change_content(&event.kind) && event.paths.iter().any(|p| concerns(p, &names)) =>
                {
                    let _ = tx.send(());
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "config file watch error"),
            })?;
        for dir in &dirs {
            watcher.watch(dir, RecursiveMode::NonRecursive)?;
        }
        // Read after the watch is in place, so an edit in between is seen as an event.
        let content = LastContent::read_all(paths);
        Ok(ConfigWatch { _watcher: watcher, changes: ContentChanges { events, pending: false, content } })
    }

    /// Waits for the next change of the file's content (after `DEBOUNCE` without further
    /// events). Cancel-safe: an event whose quiet time was cut short is not forgotten.
    pub async fn changed(&mut self) -> Option<()> {
        self.changes.next().await
    }
}

/// One of the watched files, or a ConfigMap volume's `..data` / `..<timestamp>` entries.
fn concerns(path: &Path, names: &[OsString]) -> bool {
    match path.file_name() {
        Some(name) => names.iter().any(|n| n == name) || name.to_string_lossy().starts_with(".."),
        None => false,
    }
}

/// Whether an event of this kind can come with new content. Opening, reading and closing
/// (`Access`) cannot, and neither can times or permissions (`Metadata`, what `touch` does);
/// kinds a platform reports without detail (`Any`, `Other`) might.
fn may_change_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_)
        | EventKind::Remove(_)
        | EventKind::Modify(
            ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any | ModifyKind::Other,
        )
        | EventKind::Any
        | EventKind::Other => true,
    }
}

/// The watched files' bytes as last seen, read through symlinks (a ConfigMap's `..data`).
/// `None` for a file that cannot be read (removed, or between an editor's unlink and rename).
#[derive(Debug)]
struct LastContent {
    /// The config file first.
    paths: Vec<PathBuf>,
    seen: Vec<Option<Vec<u8>>>,
}

impl LastContent {
    #[cfg(test)]
    fn read(path: PathBuf) -> Self {
        Self::read_all(vec![path])
    }

    fn read_all(paths: Vec<PathBuf>) -> Self {
        let seen = Self::contents(&paths);
        LastContent { paths, seen }
    }

    fn contents(paths: &[PathBuf]) -> Vec<Option<Vec<u8>>> {
        paths.iter().map(|p| std::fs::read(p).ok()).collect()
    }

    /// Reads the files again: true, and the new content is remembered, when any differs.
    fn changed(&mut self) -> bool {
        let now = Self::contents(&self.paths);
        if now == self.seen {
            return false;
        }
        self.seen = now;
        true
    }
}

/// Debounced events, reported only when the content changed.
struct ContentChanges {
    events: mpsc::UnboundedReceiver<()>,
    /// An event arrived and its quiet time has not passed yet; kept here rather than in the
    /// future so a `select!` that drops `next()` does not lose the change.
    pending: bool,
    content: LastContent,
}

impl ContentChanges {
    /// The next content change; `None` once the watcher is gone.
    async fn next(&mut self) -> Option<()> {
        loop {
            debounced(&mut self.events, DEBOUNCE, &mut self.pending).await?;
            if self.content.changed() {
                return Some(());
            }
            tracing::debug!(path = %self.content.paths[0].display(), "config file events without a content change");
        }
    }
}

/// The first event (or one already `pending`), followed by `quiet` without any; `None` once
/// the sender is gone.
async fn debounced(
    events: &mut mpsc::UnboundedReceiver<()>,
    quiet: Duration,
    pending: &mut bool,
) -> Option<()> {
    if !*pending {
        events.recv().await?;
        *pending = true;
    }
    loop {
        tokio::select! {
            more = events.recv() => {
                if more.is_none() {
                    break;
                }
            }
            _ = tokio::time::sleep(quiet) => break,
        }
    }
    *pending = false;
    Some(())
}

#[cfg(test)]
mod tests {
    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode,
    };

    use super::*;

    #[test]
    fn only_events_that_can_bring_new_content_count() {
        // What inotify reports when the file is read (the reload itself), written and touched.
        let no_content = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Access(AccessKind::Read),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)),
        ];
        for kind in no_content {
            assert!(!may_change_content(&kind), "{kind:?}");
        }
        // Written in place, renamed over, the ConfigMap's new directory and `..data` swap.
        let content = [
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Create(CreateKind::File),
            EventKind::Create(CreateKind::Folder),
            EventKind::Remove(RemoveKind::File),
            EventKind::Remove(RemoveKind::Folder),
            EventKind::Any,
            EventKind::Other,
        ];
        for kind in content {
            assert!(may_change_content(&kind), "{kind:?}");
        }
    }

    #[test]
    fn the_content_is_compared_with_the_last_seen_through_symlinks() {
        use std::os::unix::fs::symlink;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        let mut content = LastContent::read(path.clone());
        std::fs::write(&path, "a: 1\n").unwrap();
        assert!(!content.changed(), "rewritten with the same bytes");
        std::fs::write(&path, "a: 2\n").unwrap();
        assert!(content.changed());
        assert!(!content.changed(), "seen once, then no longer a change");
        std::fs::remove_file(&path).unwrap();
        assert!(content.changed(), "a removed file is a change (the reload reports it)");
        assert!(!content.changed());
        std::fs::write(&path, "a: 2\n").unwrap();
        assert!(content.changed(), "back after being gone");

        // A file the config refers to (a kube-state-metrics document) counts like the config.
        let document = dir.path().join("ksm.yaml");
        std::fs::write(&document, "spec: {}\n").unwrap();
        let mut both = LastContent::read_all(vec![path.clone(), document.clone()]);
        std::fs::write(&document, "spec: {}\n").unwrap();
        assert!(!both.changed());
        std::fs::write(&document, "spec: {resources: []}\n").unwrap();
        assert!(both.changed(), "the referenced file changed");
        assert!(!both.changed());

        let volume = dir.path().join("volume");
        for (ts, text) in [("..1", "a: 1\n"), ("..2", "a: 1\n"), ("..3", "a: 3\n")] {
            std::fs::create_dir_all(volume.join(ts)).unwrap();
            std::fs::write(volume.join(ts).join("config.yaml"), text).unwrap();
        }
        symlink("..1", volume.join("..data")).unwrap();
        symlink("..data/config.yaml", volume.join("config.yaml")).unwrap();
        let mut content = LastContent::read(volume.join("config.yaml"));
        let swap = |to: &str| {
            symlink(to, volume.join("..data_tmp")).unwrap();
            std::fs::rename(volume.join("..data_tmp"), volume.join("..data")).unwrap();
        };
        swap("..2");
        assert!(!content.changed(), "a new directory with the same content");
        swap("..3");
        assert!(content.changed());
    }

    /// A config file holding `a: 1` and the changes of its content, fed by the returned sender.
    struct Watched {
        _dir: tempfile::TempDir,
        path: PathBuf,
        events: mpsc::UnboundedSender<()>,
        changes: ContentChanges,
    }

    fn watched() -> Watched {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        let (events, rx) = mpsc::unbounded_channel();
        let changes = ContentChanges { events: rx, pending: false, content: LastContent::read(path.clone()) };
        Watched { _dir: dir, path, events, changes }
    }

    #[tokio::test(start_paused = true)]
    async fn events_without_new_content_are_no_change_and_each_new_content_is_one() {
        let Watched { _dir, path, events: tx, mut changes } = watched();

        // Events that keep coming without a content change (a reload reading the file, a
        // touch) never report one.
        let touches = tokio::spawn({
            let tx = tx.clone();
            async move {
                for _ in 0..10 {
                    tx.send(()).unwrap();
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
            }
        });
        assert!(tokio::time::timeout(Duration::from_secs(30), changes.next()).await.is_err());
        touches.await.unwrap();

        std::fs::write(&path, "a: 2\n").unwrap();
        tx.send(()).unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(changes.next().await, Some(()));
        assert_eq!(started.elapsed(), DEBOUNCE);
        // The same content again: nothing more to report.
        tx.send(()).unwrap();
        assert!(tokio::time::timeout(Duration::from_secs(30), changes.next()).await.is_err());
        drop(tx);
        assert_eq!(changes.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_cut_short_by_another_select_branch_is_reported_on_the_next_call() {
        let Watched { _dir, path, events: tx, mut changes } = watched();
        std::fs::write(&path, "a: 2\n").unwrap();
        tx.send(()).unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(500), changes.next()).await.is_err());
        let started = tokio::time::Instant::now();
        assert_eq!(tokio::time::timeout(Duration::from_secs(30), changes.next()).await, Ok(Some(())));
        assert_eq!(started.elapsed(), DEBOUNCE, "a fresh quiet second");
    }

    #[test]
    fn only_the_files_and_the_configmap_entries_concern_the_watch() {
        let name = [OsString::from("config.yaml"), OsString::from("ksm.yaml")];
        assert!(concerns(Path::new("/etc/kso/ksm.yaml"), &name));
        assert!(concerns(Path::new("/etc/kso/config.yaml"), &name));
        assert!(concerns(Path::new("/etc/kso/..data"), &name));
        assert!(concerns(Path::new("/etc/kso/..2026_11_23_10_00_00.123"), &name));
        assert!(!concerns(Path::new("/etc/kso/other.yaml"), &name));
        assert!(!concerns(Path::new("/etc/kso/.config.yaml.swp"), &name));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_events_is_one_change_after_a_quiet_second() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut pending = false;
        let started = tokio::time::Instant::now();
        let burst = tokio::spawn(async move {
            for _ in 0..5 {
                tx.send(()).unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            tx
        });
        assert_eq!(debounced(&mut rx, DEBOUNCE, &mut pending).await, Some(()));
        // Last event at 1.2 s, then one quiet second.
        assert_eq!(started.elapsed(), Duration::from_millis(2200));
        let tx = burst.await.unwrap();
        tx.send(()).unwrap();
        drop(tx);
        assert_eq!(debounced(&mut rx, DEBOUNCE, &mut pending).await, Some(()));
        assert_eq!(debounced(&mut rx, DEBOUNCE, &mut pending).await, None);
    }
}
