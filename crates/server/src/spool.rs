//! COL-1: a node's upload spool (`<data_dir>/spool`). It holds whole uploads while
//! they are read (`upload-<uuid>`, removed when the request ends) and resumable
//! uploads waiting for their chunks (`resumable/<id>.part` with its description
//! `<id>.json`, renamed `<id>.loading` while it is being loaded). The spool belongs
//! to one node, and one process of it at a time.
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A resumable upload that has received nothing for this long is given up.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often a running node gives up abandoned uploads.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// What a look over the spool did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SpoolSweep {
    /// Whole uploads left behind by a process that stopped while reading them.
    pub removed_uploads: usize,
    /// Resumable uploads whose load was cut off, put back to be completed again.
    pub restored_claims: usize,
    /// Resumable uploads given up after [`ABANDONED_AFTER`] without a chunk.
    pub abandoned: usize,
}

/// At start, before the node serves: nothing in its spool is in use. A whole
/// upload left by a process that stopped is removed (its request failed with it);
/// a resumable upload whose load was cut off is put back, so its sender can
/// complete it again (the load sweep marks that load interrupted, COL-2). Then
/// abandoned uploads are given up, as [`sweep`] does.
pub fn recover(dir: &Path, now: SystemTime) -> io::Result<SpoolSweep> {
    let mut done = SpoolSweep::default();
    for entry in entries(dir)? {
        let path = entry.path();
        let is_upload = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("upload-"));
        if is_upload && entry.file_type()?.is_file() {
            remove(&path)?;
            done.removed_uploads += 1;
        }
    }
    let resumable = dir.join("resumable");
    for entry in entries(&resumable)? {
        let claimed = entry.path();
        if claimed.extension().is_some_and(|e| e == "loading") {
            let description = claimed.with_extension("json");
            std::fs::rename(&claimed, &description)?;
            // Abandonment counts from now: the sender had no chance to finish.
            std::fs::File::options()
                .append(true)
                .open(&description)?
                .set_modified(now)?;
            done.restored_claims += 1;
        }
    }
    done.abandoned = sweep(dir, now)?;
    Ok(done)
}

/// Gives up the resumable uploads that received nothing for [`ABANDONED_AFTER`]:
/// their chunks and their description. One being loaded is left alone.
pub fn sweep(dir: &Path, now: SystemTime) -> io::Result<usize> {
    let resumable = dir.join("resumable");
    let mut abandoned = 0;
    for entry in entries(&resumable)? {
        let path = entry.path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        if ext != "json" && ext != "part" {
            continue;
        }
        let part = resumable.join(stem).with_extension("part");
        let description = resumable.join(stem).with_extension("json");
        if ext == "part" && description.exists() {
            // Judged with its description, below.
            continue;
        }
        if resumable.join(stem).with_extension("loading").exists() {
            continue;
        }
        // The last chunk's time, or the start's for an upload without one.
        let last = [&part, &description]
            .iter()
            .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .max();
        let idle = last.and_then(|t| now.duration_since(t).ok());
        if idle.is_some_and(|idle| idle >= ABANDONED_AFTER) {
            for p in [&part, &description] {
                remove(p)?;
            }
            abandoned += 1;
        }
    }
    Ok(abandoned)
}

/// The entries of `dir`; none when it does not exist yet.
fn entries(dir: &Path) -> io::Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(list) => list.collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(std::path::PathBuf);

    impl Dir {
        fn new() -> Self {
            let path = std::env::temp_dir()
                .join(format!("gongshu-spool-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(path.join("resumable")).unwrap();
            Self(path)
        }
        fn file(&self, name: &str, modified: SystemTime) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, b"x").unwrap();
            std::fs::File::options()
                .append(true)
                .open(&path)
                .unwrap()
                .set_modified(modified)
                .unwrap();
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn col_1_a_restart_removes_cut_off_uploads_and_puts_back_cut_off_loads() {
        let dir = Dir::new();
        let now = SystemTime::now();
        let whole = dir.file("upload-0190", now);
        let part = dir.file("resumable/a.part", now - 30 * DAY);
        let claimed = dir.file("resumable/a.loading", now - 30 * DAY);
        let kept = dir.file("resumable/b.part", now - DAY);
        dir.file("resumable/b.json", now - 2 * DAY);

        let done = recover(&dir.0, now).unwrap();
        assert_eq!(
            done,
            SpoolSweep {
                removed_uploads: 1,
                restored_claims: 1,
                abandoned: 0
            }
        );
        assert!(!whole.exists());
        assert!(!claimed.exists());
        // Put back with its chunks, and not given up at once for its old chunks.
        assert!(part.exists() && dir.0.join("resumable/a.json").exists());
        assert!(kept.exists());
        // A week later without a chunk, it is (and so is the other, idle for eight days).
        assert_eq!(sweep(&dir.0, now + ABANDONED_AFTER).unwrap(), 2);
        assert!(!part.exists() && !dir.0.join("resumable/a.json").exists());
        assert!(!kept.exists());
    }

    #[test]
    fn col_1_abandoned_resumable_uploads_are_given_up_and_loading_ones_kept() {
        let dir = Dir::new();
        let now = SystemTime::now();
        // Chunks stopped eight days ago.
        let old_part = dir.file("resumable/old.part", now - 8 * DAY);
        let old_json = dir.file("resumable/old.json", now - 9 * DAY);
        // Started long ago, but a chunk came yesterday.
        let live_part = dir.file("resumable/live.part", now - DAY);
        let live_json = dir.file("resumable/live.json", now - 20 * DAY);
        // Being loaded now, whatever the age of its chunks.
        let loading_part = dir.file("resumable/busy.part", now - 20 * DAY);
        let loading = dir.file("resumable/busy.loading", now - 20 * DAY);
        // Chunks whose description is gone.
        let orphan = dir.file("resumable/orphan.part", now - 8 * DAY);
        // A whole upload being read: not the sweep's.
        let whole = dir.file("upload-0191", now - 8 * DAY);

        assert_eq!(sweep(&dir.0, now).unwrap(), 2);
        for gone in [&old_part, &old_json, &orphan] {
            assert!(!gone.exists(), "{}", gone.display());
        }
        for kept in [&live_part, &live_json, &loading_part, &loading, &whole] {
            assert!(kept.exists(), "{}", kept.display());
        }
    }

    #[test]
    fn col_1_a_node_without_a_spool_yet_has_nothing_to_sweep() {
        let missing = std::env::temp_dir().join(format!(
            "gongshu-no-spool-{}",
            uuid::Uuid::new_v4().simple()
        ));
        assert_eq!(
            recover(&missing, SystemTime::now()).unwrap(),
            SpoolSweep::default()
        );
    }
}
