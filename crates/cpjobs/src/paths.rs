//! Where the service keeps its data by default, and the small files the
//! binary itself writes there. The directory is made private (0700) by
//! `cpjobs_artifacts::create_private_dir`: it holds the development
//! account's secret key, the service key, client tokens and every
//! customer's artifacts.

use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_follows_xdg_then_home() {
        let d = |x: Option<&str>, h: Option<&str>| data_dir_from(x.map(Into::into), h.map(Into::into));
        assert_eq!(d(Some("/x"), Some("/h")).unwrap(), PathBuf::from("/x/cpjobs"));
        assert_eq!(d(None, Some("/h")).unwrap(), PathBuf::from("/h/.local/share/cpjobs"));
        assert_eq!(d(Some("rel"), Some("/h")).unwrap(), PathBuf::from("/h/.local/share/cpjobs"));
        assert!(d(None, None).unwrap_err().contains("--data-dir"));
    }
}
