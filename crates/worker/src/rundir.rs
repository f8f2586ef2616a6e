//! Where jobs run: the work directory and its run directories, private to the
//! worker's user. A work directory found in place is trusted only if it is a
//! real directory (not a link), owned by the worker's uid, and closed to
//! group and others (mode 0o700 or stricter): another local user who made it
//! first could read inputs and plant files. Run directories are 0o700.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The default work directory: `<temp dir>/cpjobs-worker-<uid>` (`$TMPDIR`,
/// else `/tmp`). Not `$XDG_RUNTIME_DIR`: it is usually a small RAM disk, and
/// artifacts can be gigabytes.
pub fn default_work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("cpjobs-worker-{}", rustix::process::getuid().as_raw()))
}

/// Makes `dir` (mode 0o700; its parents as the umask says), or checks the one
/// found there is the worker's own and private.
pub fn private_work_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create the work directory {shown}: {e}")),
    }
    // Not followed: a link planted in a shared temp directory is refused, not trusted.
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot read the work directory {shown}: {e}"))?;
    if !meta.file_type().is_dir() {
        return Err(format!(
            "the work directory {shown} is not a directory (a link?); remove it or choose another --work-dir"
        ));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "the work directory {shown} belongs to uid {}, not to this worker's uid {me}; \
             remove it or choose another --work-dir",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "the work directory {shown} is open to other users (mode {:o}); run `chmod 700 {shown}` or choose another --work-dir",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Makes a run directory (mode 0o700) under the work directory; it must be new.
pub fn new_run_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(0o700).create(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn work_directories_are_private_and_others_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let fresh = t.path().join("a/b/work");
        private_work_dir(&fresh).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
        private_work_dir(&fresh).unwrap(); // found again: still fine

        let open = t.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(private_work_dir(&open).unwrap_err().contains("open to other users (mode 755)"));

        let link = t.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        assert!(private_work_dir(&link).unwrap_err().contains("not a directory"));

        let file = t.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(private_work_dir(&file).is_err());

        // Another user's directory (only root can make one to test with).
        if rustix::process::getuid().is_root() {
            let theirs = t.path().join("theirs");
            DirBuilder::new().mode(0o700).create(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(4242), Some(4242)).unwrap();
            assert!(private_work_dir(&theirs).unwrap_err().contains("belongs to uid 4242"));
        }

        let run = fresh.join("run-1");
        new_run_dir(&run).unwrap();
        assert_eq!(fs::metadata(&run).unwrap().mode() & 0o777, 0o700);
        assert!(new_run_dir(&run).is_err(), "a run directory is always new");
        assert!(
            default_work_dir()
                .to_string_lossy()
                .contains(&format!("cpjobs-worker-{}", rustix::process::getuid().as_raw()))
        );
    }
}
