//! Artifacts on disk: CodePipeline artifacts are zip archives. Inputs are
//! unpacked into a directory (paths that would leave it are refused by the
//! zip crate's `enclosed_name`); output directories are packed, files and
//! directories in sorted order with their Unix permissions (deflate), so the
//! same tree always gives the same listing.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Unpacks the zip archive at `archive` into `dest`. A file that is not a zip
/// archive is placed unchanged as `dest/<fallback_name>` (an S3 source object
/// may be any file). Returns whether it was a zip archive.
pub fn unpack(archive: &Path, dest: &Path, fallback_name: &str) -> io::Result<bool> {
    fs::create_dir_all(dest)?;
    let file = File::open(archive)?;
    match zip::ZipArchive::new(file) {
        Ok(mut zip) => {
            zip.extract(dest).map_err(io::Error::other)?;
            Ok(true)
        }
        Err(zip::result::ZipError::InvalidArchive(_)) | Err(zip::result::ZipError::UnsupportedArchive(_)) => {
            fs::copy(archive, dest.join(fallback_name))?;
            Ok(false)
        }
        Err(e) => Err(io::Error::other(e)),
    }
}

/// Packs the tree under `dir` into a new zip archive at `archive`.
pub fn pack(dir: &Path, archive: &Path) -> io::Result<()> {
    let mut zip = ZipWriter::new(File::create(archive)?);
    add_dir(&mut zip, dir, "")?;
    zip.finish().map_err(io::Error::other)?.sync_all()
}

fn add_dir(zip: &mut ZipWriter<File>, dir: &Path, prefix: &str) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let meta = fs::metadata(&path)?; // follows symbolic links: the archive holds what they point at
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(meta.len() >= u64::from(u32::MAX))
            .unix_permissions(mode(&meta));
        let rel = format!("{prefix}{name}");
        if meta.is_dir() {
            zip.add_directory(format!("{rel}/"), options).map_err(io::Error::other)?;
            add_dir(zip, &path, &format!("{rel}/"))?;
        } else {
            zip.start_file(rel, options).map_err(io::Error::other)?;
            io::copy(&mut File::open(&path)?, zip)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_round_trip_with_permissions_and_non_zips_are_kept_as_files() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        fs::create_dir_all(src.join("sub/deeper")).unwrap();
        fs::write(src.join("a.txt"), "alpha").unwrap();
        fs::write(src.join("sub/deeper/b.sh"), "#!/bin/sh\necho hi\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(src.join("sub/deeper/b.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let zip = t.path().join("out.zip");
        pack(&src, &zip).unwrap();
        let dest = t.path().join("dest");
        assert!(unpack(&zip, &dest, "artifact").unwrap());
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "alpha");
        assert_eq!(fs::read_to_string(dest.join("sub/deeper/b.sh")).unwrap(), "#!/bin/sh\necho hi\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(dest.join("sub/deeper/b.sh")).unwrap().permissions().mode() & 0o777, 0o755);
        }

        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        pack(&empty, &t.path().join("empty.zip")).unwrap();
        assert!(unpack(&t.path().join("empty.zip"), &t.path().join("e"), "artifact").unwrap());
        assert_eq!(fs::read_dir(t.path().join("e")).unwrap().count(), 0);

        fs::write(t.path().join("plain.bin"), "not a zip").unwrap();
        assert!(!unpack(&t.path().join("plain.bin"), &t.path().join("p"), "Source").unwrap());
        assert_eq!(fs::read_to_string(t.path().join("p/Source")).unwrap(), "not a zip");
    }
}
