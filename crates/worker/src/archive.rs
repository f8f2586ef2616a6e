//! Artifacts on disk: CodePipeline artifacts are zip archives, and both ends
//! of the worker treat them as hostile.
//!
//! Unpacking refuses the whole archive (the job fails with the reason) when an
//! entry's name is absolute, holds `..` or a NUL, passes through something
//! that is not a directory, or repeats an earlier entry; when a link's target
//! leaves the directory it is unpacked into (followed through the other links,
//! see [`crate::links`]); when the entries or their bytes (declared, and
//! counted as written, so a lying header gets nowhere) exceed the job's
//! [`Budget`]. Files are created new (never opened through an existing path),
//! links only after every file, so nothing is written through a link. Modes are
//! masked: setuid, setgid and sticky are never applied, nothing is group- or
//! world-writable; a file keeps only its owner's execute bit (0o755 or 0o644).
//!
//! Packing stores files and directories in sorted order with the same masked
//! modes (deflate), so the same tree always gives the same listing; a link is
//! stored as a link (as `zip -y` does) when it leads inside the output
//! directory, and refused otherwise: packing never follows a link.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt, symlink};
use std::path::Path;

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::links::stays_inside;

/// The longest link target read from an archive (Linux's `PATH_MAX`).
const LINK_TARGET_MAX: u64 = 4096;

/// What a job's inputs may unpack to, all archives together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes written (files and link targets).
    pub max_bytes: u64,
    /// Entries (files, directories, links).
    pub max_entries: u64,
}

impl Default for Limits {
    /// 4 GiB and 200,000 entries: a large monorepo checkout with its
    /// dependencies fits; a bomb is stopped long before it fills a disk.
    fn default() -> Limits {
        Limits { max_bytes: 4 << 30, max_entries: 200_000 }
    }
}

/// What is left of a job's [`Limits`] as its inputs are unpacked.
#[derive(Debug, Clone)]
pub struct Budget {
    limits: Limits,
    bytes: u64,
    entries: u64,
}

impl Budget {
    /// A full budget.
    pub fn new(limits: Limits) -> Budget {
        Budget { limits, bytes: 0, entries: 0 }
    }

    fn bytes_left(&self) -> u64 {
        self.limits.max_bytes.saturating_sub(self.bytes)
    }

    fn spend_bytes(&mut self, n: u64) -> io::Result<()> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_bytes {
            return Err(refused(format!(
                "the inputs unpack to more than --max-input-bytes ({} bytes)",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }

    fn spend_entries(&mut self, n: u64) -> io::Result<()> {
        self.entries = self.entries.saturating_add(n);
        if self.entries > self.limits.max_entries {
            return Err(refused(format!(
                "the inputs hold more than --max-input-entries ({} entries)",
                self.limits.max_entries
            )));
        }
        Ok(())
    }
}

fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// The mode a file gets: read/write for its owner, readable by others, and
/// executable by all only if its owner could execute it.
pub fn file_mode(mode: u32) -> u32 {
    if mode & 0o100 != 0 { 0o755 } else { 0o644 }
}

/// Directories are always 0o755: the owner must be able to fill them.
const DIR_MODE: u32 = 0o755;

/// Unpacks the zip archive at `archive` into `dest` within `budget`. A file
/// that is not a zip archive is placed unchanged as `dest/<fallback_name>`
/// (an S3 source object may be any file). Returns whether it was a zip archive.
pub fn unpack(archive: &Path, dest: &Path, fallback_name: &str, budget: &mut Budget) -> io::Result<bool> {
    fs::create_dir_all(dest)?;
    let file = File::open(archive)?;
    match zip::ZipArchive::new(file) {
        Ok(mut zip) => {
            extract(&mut zip, dest, budget)?;
            Ok(true)
        }
        Err(zip::result::ZipError::InvalidArchive(_)) | Err(zip::result::ZipError::UnsupportedArchive(_)) => {
            if fallback_name.is_empty() || fallback_name.contains(['/', '\0']) || fallback_name == ".." {
                return Err(refused(format!("{fallback_name:?} is not a file name")));
            }
            budget.spend_entries(1)?;
            let mut out = create_new(&dest.join(fallback_name), 0o644)?;
            let n = io::copy(&mut File::open(archive)?.take(budget.bytes_left().saturating_add(1)), &mut out)?;
            budget.spend_bytes(n)?;
            Ok(false)
        }
        Err(e) => Err(io::Error::other(e)),
    }
}

/// The steps of an entry's name, or why it is refused. `\` counts as `/`
/// (as unzip reads archives made on Windows); `.` and empty steps are dropped.
fn entry_steps(name: &str) -> io::Result<Vec<OsString>> {
    let bad = |why: &str| Err(refused(format!("the entry {name:?} {why}")));
    if name.contains('\0') {
        return bad("has a NUL in its name");
    }
    let name_slashed = name.replace('\\', "/");
    if name_slashed.starts_with('/') {
        return bad("has an absolute name");
    }
    let mut steps = Vec::new();
    for step in name_slashed.split('/') {
        match step {
            "" | "." => {}
            ".." => return bad("has `..` in its name"),
            s => steps.push(OsString::from(s)),
        }
    }
    Ok(steps)
}

/// Creates the directories `dest/steps...` that do not exist yet; refuses a
/// step that exists as anything but a real directory (a link, a file).
fn make_dirs(dest: &Path, steps: &[OsString], name: &str) -> io::Result<()> {
    let mut at = dest.to_path_buf();
    for step in steps {
        at.push(step);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => {
                return Err(refused(format!("the entry {name:?} goes through {step:?}, which is not a directory")));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => DirBuilder::new().mode(DIR_MODE).create(&at)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A new file, never an existing path (`O_CREAT|O_EXCL` does not follow links).
fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            refused(format!("{} is in the archive twice", path.display()))
        } else {
            e
        }
    })
}

fn extract<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, dest: &Path, budget: &mut Budget) -> io::Result<()> {
    budget.spend_entries(zip.len() as u64)?;
    // Declared sizes first: a bomb that tells the truth is refused before a byte is written.
    let mut declared = 0u64;
    for i in 0..zip.len() {
        declared = declared.saturating_add(zip.by_index_raw(i).map_err(io::Error::other)?.size());
    }
    if declared > budget.bytes_left() {
        return Err(refused(format!(
            "the inputs declare {declared} bytes, more than --max-input-bytes ({} bytes)",
            budget.limits.max_bytes
        )));
    }
    let mut links = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(io::Error::other)?;
        let name = entry.name().to_owned();
        let steps = entry_steps(&name)?;
        let Some((_, parents)) = steps.split_last() else {
            if entry.is_dir() {
                continue; // `./`: the destination itself
            }
            return Err(refused(format!("the entry {name:?} has no file name")));
        };
        make_dirs(dest, parents, &name)?;
        let path = steps.iter().fold(dest.to_path_buf(), |p, s| p.join(s));
        if entry.is_dir() {
            make_dirs(dest, &steps, &name)?;
        } else if entry.is_symlink() {
            let mut target = Vec::new();
            (&mut entry).take(LINK_TARGET_MAX + 1).read_to_end(&mut target)?;
            budget.spend_bytes(target.len() as u64)?;
            let target = String::from_utf8(target)
                .ok()
                .filter(|t| !t.is_empty() && t.len() as u64 <= LINK_TARGET_MAX && !t.contains('\0'))
                .ok_or_else(|| refused(format!("the link {name:?} has no usable target")))?;
            links.push((name, steps, target));
        } else {
            let mut file = create_new(&path, 0o600)?;
            // Counted as written: a header that lies about the size gets no further than the budget.
            let n = io::copy(&mut (&mut entry).take(budget.bytes_left().saturating_add(1)), &mut file)?;
            budget.spend_bytes(n)?;
            file.flush()?;
            file.set_permissions(fs::Permissions::from_mode(file_mode(entry.unix_mode().unwrap_or(0o644))))?;
        }
    }
    // Links last, so no file above was written through one; then each is
    // followed through all the others before the command may see it. A refused
    // archive leaves none of its links behind (not even in a kept run directory).
    let mut made = Vec::new();
    let result = make_links(dest, &links, &mut made);
    if result.is_err() {
        for path in &made {
            let _ = fs::remove_file(path);
        }
    }
    result
}

/// A link entry: its name, its steps, its target.
type LinkEntry = (String, Vec<OsString>, String);

fn make_links(dest: &Path, links: &[LinkEntry], made: &mut Vec<std::path::PathBuf>) -> io::Result<()> {
    for (name, steps, target) in links {
        make_dirs(dest, &steps[..steps.len() - 1], name)?;
        let path = steps.iter().fold(dest.to_path_buf(), |p, s| p.join(s));
        symlink(target, &path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                refused(format!("the link {name:?} replaces another entry"))
            } else {
                e
            }
        })?;
        made.push(path);
    }
    for (name, steps, target) in links {
        if !stays_inside(dest, steps)? {
            return Err(refused(format!("the link {name:?} -> {target:?} leads out of the artifact")));
        }
    }
    Ok(())
}

/// Packs the tree under `dir` into a new zip archive at `archive`.
pub fn pack(dir: &Path, archive: &Path) -> io::Result<()> {
    // The directory itself is not followed either (a command may have swapped it for a link).
    if !fs::symlink_metadata(dir)?.file_type().is_dir() {
        return Err(refused(format!("{} is no longer a directory (a link?)", dir.display())));
    }
    let mut zip = ZipWriter::new(File::create(archive)?);
    add_dir(&mut zip, dir, &mut Vec::new())?;
    zip.finish().map_err(io::Error::other)?.sync_all()
}

fn add_dir(zip: &mut ZipWriter<File>, root: &Path, rel: &mut Vec<OsString>) -> io::Result<()> {
    let here = rel.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    let mut entries: Vec<_> = fs::read_dir(&here)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        rel.push(entry.file_name());
        let name = rel.iter().map(|s| s.to_string_lossy()).collect::<Vec<_>>().join("/");
        let path = entry.path();
        let kind = entry.file_type()?; // never follows a link
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        if kind.is_symlink() {
            let target = fs::read_link(&path)?;
            if !stays_inside(root, rel)? {
                return Err(refused(format!(
                    "{name} is a link to {} (outside the output directory)",
                    target.display()
                )));
            }
            let target = target.to_str().ok_or_else(|| refused(format!("the link {name} has a non-UTF-8 target")))?;
            zip.add_symlink(&name, target, options).map_err(io::Error::other)?;
        } else if kind.is_dir() {
            zip.add_directory(format!("{name}/"), options.unix_permissions(DIR_MODE)).map_err(io::Error::other)?;
            add_dir(zip, root, rel)?;
        } else if kind.is_file() {
            // O_NOFOLLOW: a file swapped for a link since it was listed is refused, not followed;
            // O_NONBLOCK: a FIFO swapped in does not hang the worker (it is then refused below).
            let flags = (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits();
            let mut file = OpenOptions::new().read(true).custom_flags(flags as i32).open(&path)?;
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(refused(format!("{name} changed into something other than a file")));
            }
            let options = options
                .large_file(meta.len() >= u64::from(u32::MAX))
                .unix_permissions(file_mode(meta.permissions().mode()));
            zip.start_file(&name, options).map_err(io::Error::other)?;
            io::copy(&mut file, zip)?;
        } else {
            return Err(refused(format!("{name} is not a file, directory or link (a FIFO, socket or device)")));
        }
        rel.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
