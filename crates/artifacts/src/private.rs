//! The data directory (SQLite database, artifacts, the service key, the development
//! account's keys) is the service user's alone.
//!
//! Invariant: whatever the umask, every directory this crate creates is 0700 and every
//! file 0600 (made with `cpjobs_private`, which gives modes at creation and never widens
//! them), and [`create_private_dir`] brings a data directory made by an older version, or by
//! hand, to the same modes at start-up. A directory owned by another user is refused:
//! whoever owns it can read and plant files there, whatever its mode.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

pub(crate) use cpjobs_private::{DIR_MODE, FILE_MODE, new_dir, new_dir_all, new_file};

/// What cpjobs keeps in its data directory, made private at start: the SQLite
/// database and its companions (`cpjobs.sqlite3*`), `service.key` (and its temporary
/// files), the development account (`dev-account.toml`) and the artifact store
/// (`artifacts/`, recursively). Other entries are an operator's, not ours to change
/// (a data directory may be shared with other files): the directory's own 0700 keeps
/// them from other users.
fn is_ours(name: &str) -> bool {
    name.starts_with("cpjobs.sqlite3")
        || name.starts_with(crate::credentials::SERVICE_KEY_FILE)
        || name == "dev-account.toml"
        || name == "artifacts"
}

/// Creates `path` (and missing parents) as a private directory, or makes an existing
/// one private: the directory 0700, and what cpjobs keeps there (see [`is_ours`]):
/// directories 0700, files 0600 (symbolic links are left alone and never followed).
/// Refuses a directory another user owns.
///
/// `cpjobs serve` calls it on its data directory before anything is written there.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Parents are not ours to tighten (`/var/lib`, a home directory).
        fs::create_dir_all(parent)?;
    }
    match DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = fs::metadata(path)?;
    if !meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a directory", path.display())));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is owned by uid {}, not by this service's user (uid {me}): another user could read and plant \
                 files there; use a directory of this user",
                path.display(),
                meta.uid()
            ),
        ));
    }
    set_mode(path, &meta, DIR_MODE)?;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(is_ours) {
            tighten_entry(&entry.path())?;
        }
    }
    Ok(())
}

/// Sets `path` to 0600 (a file) or 0700 (a directory, and everything below it).
fn tighten_entry(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        // Removed meanwhile (a SQLite -shm, a temporary file).
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        set_mode(path, &meta, DIR_MODE)?;
        for entry in fs::read_dir(path)? {
            tighten_entry(&entry?.path())?;
        }
    } else if meta.is_file() {
        set_mode(path, &meta, FILE_MODE)?;
    }
    Ok(())
}

fn set_mode(path: &Path, meta: &fs::Metadata, mode: u32) -> io::Result<()> {
    if meta.mode() & 0o7777 == mode {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot make {} private: {e}", path.display())))
}

/// `cpjobs_private::new_file` for tokio.
pub(crate) async fn new_file_async(path: &Path) -> io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_loose_data_directory_is_made_private_at_start() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir_all(data.join("artifacts/buckets/b")).unwrap();
        for (p, m) in [("data", 0o755), ("data/artifacts", 0o777), ("data/artifacts/buckets/b", 0o1777)] {
            fs::set_permissions(root.path().join(p), fs::Permissions::from_mode(m)).unwrap();
        }
        fs::write(data.join("cpjobs.sqlite3"), b"db").unwrap();
        fs::set_permissions(data.join("cpjobs.sqlite3"), fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(data.join("artifacts/buckets/b/obj"), b"x").unwrap();
        fs::set_permissions(data.join("artifacts/buckets/b/obj"), fs::Permissions::from_mode(0o4777)).unwrap();
        let outside = root.path().join("outside");
        fs::write(&outside, b"not ours").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, data.join("artifacts/link")).unwrap();
        fs::write(data.join("notes.txt"), b"the operator's").unwrap();
        fs::set_permissions(data.join("notes.txt"), fs::Permissions::from_mode(0o644)).unwrap();

        create_private_dir(&data).unwrap();
        for d in ["data", "data/artifacts", "data/artifacts/buckets", "data/artifacts/buckets/b"] {
            assert_eq!(mode(&root.path().join(d)), 0o700, "{d}");
        }
        assert_eq!(mode(&data.join("cpjobs.sqlite3")), 0o600);
        assert_eq!(mode(&data.join("artifacts/buckets/b/obj")), 0o600);
        assert_eq!(mode(&outside), 0o644, "links are not followed");
        assert_eq!(mode(&data.join("notes.txt")), 0o644, "what is not cpjobs' is left as it is");
        // Idempotent, and a fresh directory is private from the start.
        create_private_dir(&data).unwrap();
        create_private_dir(&root.path().join("new/deeper")).unwrap();
        assert_eq!(mode(&root.path().join("new/deeper")), 0o700);
        assert!(create_private_dir(&outside).is_err(), "a file is no data directory");
    }
}
