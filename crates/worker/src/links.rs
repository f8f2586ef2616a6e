//! Where a symbolic link leads, without trusting it: a link is followed step
//! by step as the kernel would (through the other links on disk, `..` taken
//! where it stands), and refused as soon as a step leaves its root, names an
//! absolute path, or the chain is too long. Unpacking and packing both ask
//! this before a link is kept, so no link of an artifact reaches a host file.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// As Linux's `MAXSYMLINKS`: a longer chain is a loop or an attack.
const MAX_HOPS: usize = 40;

/// Whether the link at `root/rel` (its components, all plain names) leads to
/// a place under `root`, following every link it meets on disk. A dangling
/// end counts as inside if its spelled-out path stays inside.
pub fn stays_inside(root: &Path, rel: &[OsString]) -> io::Result<bool> {
    let Some((_, parent)) = rel.split_last() else { return Ok(false) };
    let mut at: Vec<OsString> = parent.to_vec();
    let mut todo: VecDeque<OsString> = VecDeque::new();
    let mut hops = 0;
    if !queue_target(&mut todo, &fs::read_link(join(root, rel))?) {
        return Ok(false);
    }
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            if at.pop().is_none() {
                return Ok(false);
            }
            continue;
        }
        at.push(c);
        let here = join(root, &at);
        if fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink()) {
            hops += 1;
            at.pop();
            if hops > MAX_HOPS || !queue_target(&mut todo, &fs::read_link(&here)?) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Puts a link target's steps in front of the steps left; false for an
/// absolute target (it leaves any root).
fn queue_target(todo: &mut VecDeque<OsString>, target: &Path) -> bool {
    let mut steps = Vec::new();
    for c in target.components() {
        match c {
            Component::Normal(n) => steps.push(n.to_owned()),
            Component::ParentDir => steps.push(OsString::from("..")),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    if target.as_os_str().is_empty() {
        return false;
    }
    for s in steps.into_iter().rev() {
        todo.push_front(s);
    }
    true
}

fn join(root: &Path, rel: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(rel);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rel(s: &str) -> Vec<OsString> {
        s.split('/').map(OsString::from).collect()
    }

    #[test]
    fn links_are_followed_through_other_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("a/b/c")).unwrap();
        let inside = |l: &str, target: &str| {
            symlink(target, root.join(l)).unwrap();
            stays_inside(&root, &rel(l)).unwrap()
        };
        assert!(inside("a/up", ".."));
        assert!(inside("a/b/deep", "c"));
        assert!(inside("dangling", "missing/file"));
        assert!(!inside("abs", "/etc/passwd"));
        assert!(!inside("out", "../x"));
        assert!(!inside("a/out2", "../../x"));
        // Lexically `dot/dot/dot/../..` is `dot`, inside; the kernel climbs twice from the root.
        assert!(inside("dot", "."));
        assert!(!inside("climb", "dot/dot/dot/../.."));
        // Through a link to a deep directory, `..` climbs from where the link leads.
        assert!(inside("a/b/c/home", "../../.."));
        assert!(!inside("via", "a/b/c/home/.."));
        symlink("loop1", root.join("loop2")).unwrap();
        assert!(!inside("loop1", "loop2"));
        assert!(inside("self", "./"));
    }
}
