//! Hostile archives, built entry by entry with the zip crate: each is refused
//! and leaves nothing outside the directory it was unpacked into.

use super::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One entry of a crafted archive.
enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn craft(path: &Path, entries: &[E<'_>]) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for e in entries {
        match e {
            E::File(name, data, mode) => {
                zip.start_file(*name, opts.unix_permissions(*mode)).unwrap();
                zip.write_all(data).unwrap();
            }
            E::Dir(name) => zip.add_directory(*name, opts).unwrap(),
            E::Link(name, target) => zip.add_symlink(*name, *target, opts).unwrap(),
        }
    }
    zip.finish().unwrap();
}

/// Every path under `dir`, without following links.
fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            }
            out.insert(e.path());
        }
    }
    out
}

/// A sandbox: `outside/` with a secret, and `dest/` to unpack into.
struct Sandbox {
    t: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("outside")).unwrap();
        fs::write(t.path().join("outside/secret"), "host secret").unwrap();
        fs::create_dir_all(t.path().join("dest")).unwrap();
        Sandbox { t }
    }

    fn dest(&self) -> PathBuf {
        self.t.path().join("dest")
    }

    fn unpack(&self, entries: &[E<'_>], limits: Limits) -> io::Result<bool> {
        let zip = self.t.path().join("in.zip");
        craft(&zip, entries);
        let before: BTreeSet<_> = listing(self.t.path()).into_iter().filter(|p| !p.starts_with(self.dest())).collect();
        let r = unpack(&zip, &self.dest(), "Artifact", &mut Budget::new(limits));
        let after: BTreeSet<_> = listing(self.t.path()).into_iter().filter(|p| !p.starts_with(self.dest())).collect();
        assert_eq!(before, after, "nothing is written beside the destination");
        assert_eq!(fs::read_to_string(self.t.path().join("outside/secret")).unwrap(), "host secret");
        r
    }

    fn refused(&self, entries: &[E<'_>], why: &str) {
        let err = self.unpack(entries, Limits::default()).unwrap_err().to_string();
        assert!(err.contains(why), "{why:?} expected in {err:?}");
        let links: Vec<_> = listing(&self.dest())
            .into_iter()
            .filter(|p| fs::symlink_metadata(p).unwrap().file_type().is_symlink())
            .collect();
        assert!(links.is_empty(), "a refused archive left links behind: {links:?}");
    }
}

#[test]
fn trees_round_trip_with_masked_modes_and_non_zips_are_kept_as_files() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(src.join("sub/deeper")).unwrap();
    fs::write(src.join("a.txt"), "alpha").unwrap();
    fs::write(src.join("sub/deeper/b.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(src.join("sub/deeper/b.sh"), fs::Permissions::from_mode(0o775)).unwrap();
    fs::write(src.join("open"), "o").unwrap();
    fs::set_permissions(src.join("open"), fs::Permissions::from_mode(0o666)).unwrap();
    let zip = t.path().join("out.zip");
    pack(&src, &zip).unwrap();
    let dest = t.path().join("dest");
    assert!(unpack(&zip, &dest, "artifact", &mut Budget::new(Limits::default())).unwrap());
    assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "alpha");
    assert_eq!(fs::read_to_string(dest.join("sub/deeper/b.sh")).unwrap(), "#!/bin/sh\necho hi\n");
    let mode = |p: &str| fs::symlink_metadata(dest.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("sub/deeper/b.sh"), 0o755);
    assert_eq!(mode("open"), 0o644);

    let empty = t.path().join("empty");
    fs::create_dir(&empty).unwrap();
    pack(&empty, &t.path().join("empty.zip")).unwrap();
    assert!(
        unpack(&t.path().join("empty.zip"), &t.path().join("e"), "artifact", &mut Budget::new(Limits::default()))
            .unwrap()
    );
    assert_eq!(fs::read_dir(t.path().join("e")).unwrap().count(), 0);

    fs::write(t.path().join("plain.bin"), "not a zip").unwrap();
    let mut budget = Budget::new(Limits::default());
    assert!(!unpack(&t.path().join("plain.bin"), &t.path().join("p"), "Source", &mut budget).unwrap());
    assert_eq!(fs::read_to_string(t.path().join("p/Source")).unwrap(), "not a zip");
    let mut small = Budget::new(Limits { max_bytes: 4, max_entries: 10 });
    let err = unpack(&t.path().join("plain.bin"), &t.path().join("q"), "Source", &mut small).unwrap_err();
    assert!(err.to_string().contains("--max-input-bytes"), "{err}");
}

#[test]
fn setuid_setgid_sticky_and_world_writable_modes_are_never_applied() {
    let s = Sandbox::new();
    let entries = [
        E::File("suid", b"x", 0o4755),
        E::File("sgid", b"x", 0o2775),
        E::File("sticky", b"x", 0o1777),
        E::File("world", b"x", 0o666),
        E::File("none", b"x", 0o000),
        E::File("group-exec-only", b"x", 0o610),
    ];
    assert!(s.unpack(&entries, Limits::default()).unwrap());
    let mode = |p: &str| fs::metadata(s.dest().join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        ["suid", "sgid", "sticky", "world", "none", "group-exec-only"].map(mode),
        [0o755, 0o755, 0o755, 0o644, 0o644, 0o644]
    );
}

#[test]
fn links_inside_the_artifact_are_kept() {
    let s = Sandbox::new();
    let entries = [
        E::File("lib/real.txt", b"real", 0o644),
        E::Link("bin/tool", "../lib/real.txt"),
        E::Link("here", "."),
        E::Link("dangling", "not/yet"),
    ];
    assert!(s.unpack(&entries, Limits::default()).unwrap());
    assert_eq!(fs::read_to_string(s.dest().join("bin/tool")).unwrap(), "real");
    assert_eq!(fs::read_link(s.dest().join("here")).unwrap(), Path::new("."));
}

#[test]
fn links_and_names_that_leave_the_artifact_are_refused() {
    let outside = |s: &Sandbox| s.t.path().join("outside").display().to_string();
    let s = Sandbox::new();
    s.refused(&[E::Link("passwd", "/etc/passwd")], "leads out of the artifact");
    let s = Sandbox::new();
    s.refused(&[E::Link("secret", &format!("{}/secret", outside(&s)))], "leads out");
    let s = Sandbox::new();
    s.refused(&[E::Link("up", "../outside/secret")], "leads out");
    let s = Sandbox::new();
    s.refused(&[E::Dir("a/"), E::Link("a/b/up", "../../../outside")], "leads out");
    // A chain: each link alone looks harmless, together they climb out.
    let s = Sandbox::new();
    s.refused(&[E::Link("dot", "."), E::Link("climb", "dot/dot/dot/../../outside/secret")], "leads out");
    let s = Sandbox::new();
    s.refused(&[E::Dir("x/y/"), E::Link("deep", "x/y"), E::Link("out", "deep/../../../outside")], "leads out");
    // A link, then a file written "through" it.
    let s = Sandbox::new();
    s.refused(&[E::Link("escape", "../outside"), E::File("escape/planted", b"p", 0o644)], "replaces another entry");
    let s = Sandbox::new();
    s.refused(&[E::Link("escape", "/tmp"), E::Link("escape/planted", "x")], "replaces another entry");
    // A directory replaced by a link of the same name.
    let s = Sandbox::new();
    s.refused(&[E::Dir("d/"), E::File("d/f", b"f", 0o644), E::Link("d", "/")], "replaces another entry");
    // Duplicate names (the zip writer refuses them, so the second name is patched in).
    let s = Sandbox::new();
    let zip = s.t.path().join("dup.zip");
    craft(&zip, &[E::Dir("dup/"), E::File("dup/f", b"1", 0o644), E::Link("dux", "/")]);
    let mut bytes = fs::read(&zip).unwrap();
    for i in 0..bytes.len() - 3 {
        if &bytes[i..i + 3] == b"dux" {
            bytes[i + 2] = b'p';
        }
    }
    fs::write(&zip, &bytes).unwrap();
    let r = unpack(&zip, &s.dest(), "A", &mut Budget::new(Limits::default()));
    assert!(r.is_err(), "{r:?}");
    let s = Sandbox::new();
    s.refused(&[E::File("f", b"1", 0o644), E::File("f/g", b"2", 0o644)], "not a directory");
    for name in ["../x", "a/../../x", "/abs/x", "..\\..\\x", "a\\..\\..\\x", "nul\0x"] {
        let s = Sandbox::new();
        let err = s.unpack(&[E::File(name, b"x", 0o644)], Limits::default());
        assert!(err.is_err(), "{name:?} was accepted");
    }
}

/// Sets the uncompressed size of every entry (local and central headers) to `size`.
fn lie_about_sizes(zip: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 30 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes()),
            b"PK\x01\x02" => zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn bombs_are_stopped_by_declared_and_by_written_sizes_and_by_entry_count() {
    let big = vec![0u8; 1 << 20];
    let limits = Limits { max_bytes: 64 << 10, max_entries: 10 };
    let s = Sandbox::new();
    let err = s.unpack(&[E::File("zeros", &big, 0o644)], limits).unwrap_err();
    assert!(err.to_string().contains("declare 1048576 bytes"), "{err}");

    // A header that claims 10 bytes for 1 MiB of zeros: counted as written, stopped at the limit.
    let s = Sandbox::new();
    let zip = s.t.path().join("liar.zip");
    craft(&zip, &[E::File("zeros", &big, 0o644)]);
    let mut bytes = fs::read(&zip).unwrap();
    lie_about_sizes(&mut bytes, 10);
    fs::write(&zip, &bytes).unwrap();
    let err = unpack(&zip, &s.dest(), "A", &mut Budget::new(limits)).unwrap_err();
    assert!(err.to_string().contains("--max-input-bytes") || err.to_string().contains("size"), "{err}");
    let written: u64 = listing(&s.dest()).iter().map(|p| fs::symlink_metadata(p).unwrap().len()).sum();
    assert!(written <= (64 << 10) + 1, "{written} bytes written");

    let s = Sandbox::new();
    let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"", 0o644)).collect();
    let err = s.unpack(&entries, limits).unwrap_err();
    assert!(err.to_string().contains("--max-input-entries (10 entries)"), "{err}");

    // The budget is the job's: two archives of 40 KiB each do not fit 64 KiB.
    let t = tempfile::tempdir().unwrap();
    let zip = t.path().join("a.zip");
    craft(&zip, &[E::File("f", &big[..40 << 10], 0o644)]);
    let mut budget = Budget::new(limits);
    unpack(&zip, &t.path().join("one"), "A", &mut budget).unwrap();
    assert!(unpack(&zip, &t.path().join("two"), "B", &mut budget).is_err());
}

#[test]
fn packing_stores_inside_links_as_links_and_refuses_links_that_leave() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("secret"), "host secret").unwrap();
    let out = t.path().join("out");
    fs::create_dir_all(out.join("lib")).unwrap();
    fs::write(out.join("lib/real"), "real").unwrap();
    symlink("lib/real", out.join("alias")).unwrap();
    let zip = t.path().join("o.zip");
    pack(&out, &zip).unwrap();
    let mut archive = zip::ZipArchive::new(File::open(&zip).unwrap()).unwrap();
    let alias = archive.by_name("alias").unwrap();
    assert!(alias.is_symlink());
    drop(alias);
    let dest = t.path().join("back");
    unpack(&zip, &dest, "A", &mut Budget::new(Limits::default())).unwrap();
    assert_eq!(fs::read_link(dest.join("alias")).unwrap(), Path::new("lib/real"));

    for (name, target) in [("abs", t.path().join("secret")), ("rel", PathBuf::from("../../secret"))] {
        let out = t.path().join(format!("out-{name}"));
        fs::create_dir_all(out.join("d")).unwrap();
        symlink(&target, out.join("d/leak")).unwrap();
        let err = pack(&out, &t.path().join(format!("{name}.zip"))).unwrap_err();
        assert!(err.to_string().contains("outside the output directory"), "{err}");
    }
    symlink(t.path(), t.path().join("swapped")).unwrap();
    let err = pack(&t.path().join("swapped"), &t.path().join("swapped.zip")).unwrap_err();
    assert!(err.to_string().contains("no longer a directory"), "{err}");
    let out = t.path().join("out-fifo");
    fs::create_dir_all(&out).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(out.join("pipe")).status().unwrap().success());
    let err = pack(&out, &t.path().join("fifo.zip")).unwrap_err();
    assert!(err.to_string().contains("not a file, directory or link"), "{err}");
}
