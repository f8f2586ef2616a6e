//! Where the service keeps its data, and how it makes that place private.
//!
//! The data directory holds the development account's secret key, the
//! service key, client tokens and every customer's artifacts, so it is the
//! owner's alone (0700), whatever the umask.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The default data directory: `$XDG_DATA_HOME/cpjobs`, else
/// `$HOME/.local/share/cpjobs` (the XDG base directory default). Outside the
/// working directory, so a service started from a repository leaves nothing
/// in its work tree, and every start finds the same development account
/// wherever it is started from.
pub(crate) fn default_data_dir() -> Result<PathBuf, String> {
    data_dir_from(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))
}

fn data_dir_from(xdg: Option<std::ffi::OsString>, home: Option<std::ffi::OsString>) -> Result<PathBuf, String> {
    // The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(x) = xdg.map(PathBuf::from).filter(|p| p.is_absolute()) {
        return Ok(x.join("cpjobs"));
    }
    match home.map(PathBuf::from).filter(|p| p.is_absolute()) {
        Some(h) => Ok(h.join(".local/share/cpjobs")),
        None => Err("neither XDG_DATA_HOME nor HOME is set to an absolute path: pass --data-dir".to_owned()),
    }
}

/// Creates `dir` (and its parents) if missing, readable by its owner only.
/// An existing directory is tightened to 0700: it may hold secrets written
/// by an earlier version that created it 0755.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let fail = |e: std::io::Error| format!("cannot create data directory {}: {e}", dir.display());
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(fail)?;
    let meta = std::fs::metadata(dir).map_err(fail)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make data directory {} private: {e}", dir.display()))?;
    }
    Ok(())
}

/// Replaces `path` with `text`, readable by its owner only, atomically (a
/// reader never sees half a file).
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(text.as_bytes())?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn default_follows_xdg_then_home() {
        let d = |x: Option<&str>, h: Option<&str>| data_dir_from(x.map(Into::into), h.map(Into::into));
        assert_eq!(d(Some("/x"), Some("/h")).unwrap(), PathBuf::from("/x/cpjobs"));
        assert_eq!(d(None, Some("/h")).unwrap(), PathBuf::from("/h/.local/share/cpjobs"));
        assert_eq!(d(Some("rel"), Some("/h")).unwrap(), PathBuf::from("/h/.local/share/cpjobs"));
        assert!(d(None, None).unwrap_err().contains("--data-dir"));
    }

    #[test]
    fn data_dir_is_private_and_loose_ones_are_tightened() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        write_private(&dir.join("f"), "x").unwrap();
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "x");
    }
}
