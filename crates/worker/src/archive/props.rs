//! Property tests of the unpacker: random archives (names with `..`, `/`,
//! `\`, NULs, links to anywhere, any modes and sizes), and the same archives
//! with bytes flipped or cut, never panic, never write beside the directory
//! they are unpacked into, and never leave a link there that resolves out of
//! it, a setuid bit or a group- or world-writable file.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

#[derive(Debug, Clone)]
enum Entry {
    File(String, Vec<u8>, u32),
    Dir(String),
    Link(String, String),
}

fn step() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-c]{1,2}",
        2 => Just("..".to_owned()),
        1 => Just(".".to_owned()),
        1 => Just(String::new()),
        1 => Just("x\0y".to_owned()),
        1 => Just("outside".to_owned()),
        1 => Just("C:".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(step(), 1..5), prop_oneof![Just("/"), Just("\\")])
        .prop_map(|(absolute, steps, sep)| format!("{}{}", if absolute { sep } else { "" }, steps.join(sep)))
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        3 => (path(), prop::collection::vec(any::<u8>(), 0..64), any::<u32>()).prop_map(|(n, d, m)| Entry::File(n, d, m)),
        1 => path().prop_map(|n| Entry::Dir(format!("{n}/"))),
        3 => (path(), prop_oneof![path(), Just("/etc/passwd".to_owned()), Just("../outside/secret".to_owned())])
            .prop_map(|(n, t)| Entry::Link(n, t)),
    ]
}

/// How the archive's bytes are spoiled after it is written.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Flip(Vec<(usize, u8)>),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::None),
        2 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..8).prop_map(Mutation::Flip),
        1 => any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn write_archive(path: &Path, entries: &[Entry]) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let mut seen = BTreeSet::new();
    for e in entries {
        let name = match e {
            Entry::File(n, ..) | Entry::Dir(n) | Entry::Link(n, _) => n.clone(),
        };
        if !seen.insert(name.trim_end_matches('/').to_owned()) {
            continue; // the writer refuses duplicates; the unit tests craft them by hand
        }
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let _ = match e {
            Entry::File(n, data, mode) => zip
                .start_file(n.as_str(), opts.unix_permissions(*mode & 0o7777))
                .and_then(|()| zip.write_all(data).map_err(Into::into)),
            Entry::Dir(n) => zip.add_directory(n.as_str(), opts),
            Entry::Link(n, t) => zip.add_symlink(n.as_str(), t.as_str(), opts),
        };
    }
    zip.finish().unwrap();
}

fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(e.path());
            }
            out.insert(e.path());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_and_mutated_archives_stay_in_their_directory(
        entries in prop::collection::vec(entry(), 0..12),
        spoil in mutation(),
    ) {
        let t = tempfile::tempdir().unwrap();
        let box_dir = t.path().join("box");
        fs::create_dir_all(box_dir.join("outside")).unwrap();
        fs::write(box_dir.join("outside/secret"), "host secret").unwrap();
        let dest = box_dir.join("run/dest");
        fs::create_dir_all(&dest).unwrap();
        let zip = t.path().join("in.zip");
        write_archive(&zip, &entries);
        let mut bytes = fs::read(&zip).unwrap();
        match &spoil {
            Mutation::None => {}
            Mutation::Flip(flips) => {
                for (at, b) in flips {
                    let i = at % bytes.len();
                    bytes[i] = *b;
                }
            }
            Mutation::Cut(at) => bytes.truncate(at % bytes.len()),
        }
        fs::write(&zip, &bytes).unwrap();
        let before: BTreeSet<_> = listing(&box_dir).into_iter().filter(|p| !p.starts_with(&dest)).collect();

        let _ = unpack(&zip, &dest, "Artifact", &mut Budget::new(Limits { max_bytes: 1 << 16, max_entries: 64 }));

        let after: BTreeSet<_> = listing(&box_dir).into_iter().filter(|p| !p.starts_with(&dest)).collect();
        prop_assert_eq!(before, after);
        prop_assert_eq!(fs::read_to_string(box_dir.join("outside/secret")).unwrap(), "host secret");
        let real_dest = fs::canonicalize(&dest).unwrap();
        for p in listing(&dest) {
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                if let Ok(to) = fs::canonicalize(&p) {
                    prop_assert!(to.starts_with(&real_dest), "{} leads to {}", p.display(), to.display());
                }
            } else {
                prop_assert_eq!(meta.mode() & 0o7022, 0, "{} has mode {:o}", p.display(), meta.mode());
            }
        }
    }
}
