//! Private files and directories: what the service and the binary keep on
//! disk (the data directory, the service key, the development account's
//! keys, artifacts) is their user's alone.
//!
//! Invariant: whatever the umask, every directory made here is 0700 and
//! every file 0600: modes are given at creation, never widened afterwards.
//! [`write_private`] also never lets a reader (or a crash) see half a file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of every private directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every private file.
pub const FILE_MODE: u32 = 0o600;

/// Creates a new file, readable and writable by its owner only; fails if it exists.
pub fn new_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// Creates a directory (0700); fails if it exists.
pub fn new_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).create(path)
}

/// Creates a directory and its missing parents, each 0700.
pub fn new_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).recursive(true).create(path)
}

/// What [`write_private`] does when the file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Replace it (a reader sees the old text or the new, never a mix).
    Replace,
    /// Keep it and fail with [`io::ErrorKind::AlreadyExists`]: of two
    /// processes creating the same file at once, exactly one wins, and the
    /// other can read what the winner wrote.
    Keep,
}

/// Writes `bytes` to `path` as a private file (0600), whole or not at all,
/// and durably: into a temporary file beside it, synced, then renamed
/// ([`IfExists::Replace`]) or hard-linked ([`IfExists::Keep`]) into place,
/// and the directory synced, so a crash leaves the old file or the new one.
pub fn write_private(path: &Path, bytes: &[u8], if_exists: IfExists) -> io::Result<()> {
    let tmp = temporary_beside(path)?;
    let written = (|| {
        let mut f = new_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let placed = written.and_then(|()| match if_exists {
        IfExists::Replace => fs::rename(&tmp, path),
        IfExists::Keep => fs::hard_link(&tmp, path),
    });
    // After a rename there is nothing left to remove; otherwise the
    // temporary file must not outlive this call.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) if placed.is_ok() => return Err(e),
        Err(_) => {}
    }
    placed?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// A name beside `path` that no other call, in this process or another
/// live one, uses at the same time: `NAME.PID.N.tmp`.
fn temporary_beside(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut tmp = name.to_os_string();
    tmp.push(format!(".{}.{n}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn created_files_and_directories_ignore_the_umask() {
        let root = tempfile::tempdir().unwrap();
        let old = rustix::process::umask(rustix::fs::Mode::empty());
        let f = new_file(&root.path().join("f"));
        let d = new_dir(&root.path().join("d"));
        let all = new_dir_all(&root.path().join("a/b"));
        let w = write_private(&root.path().join("w"), b"x", IfExists::Replace);
        rustix::process::umask(old);
        f.unwrap();
        d.unwrap();
        all.unwrap();
        w.unwrap();
        assert_eq!(mode(&root.path().join("f")), 0o600);
        assert_eq!(mode(&root.path().join("d")), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&root.path().join("a/b")), 0o700);
        assert_eq!(mode(&root.path().join("w")), 0o600);
    }

    #[test]
    fn replace_replaces_and_keep_keeps_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        write_private(&f, b"x", IfExists::Replace).unwrap();
        write_private(&f, b"y", IfExists::Replace).unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "y");
        assert_eq!(mode(&f), 0o600);

        let k = dir.path().join("k");
        write_private(&k, b"first", IfExists::Keep).unwrap();
        let e = write_private(&k, b"second", IfExists::Keep).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&k).unwrap(), "first");
        // No temporary file is left behind, whatever happened.
        let mut names: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["f", "k"]);
    }

    #[test]
    fn a_file_that_cannot_be_placed_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_private(&dir.path().join("missing/f"), b"x", IfExists::Replace).is_err());
        fs::create_dir(dir.path().join("d")).unwrap();
        assert!(write_private(&dir.path().join("d"), b"x", IfExists::Replace).is_err(), "a directory is in the way");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_private(Path::new("/"), b"x", IfExists::Replace).is_err());
    }
}
