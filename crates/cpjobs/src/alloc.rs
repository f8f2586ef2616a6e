//! The process's global allocator: mimalloc for the long-running, many-threaded
//! subcommands (`cpjobs serve`, `cpjobs worker`), the system's (glibc's
//! malloc) for everything else, above all the AWS CLI compatible commands,
//! whose promise is start-up time.
//!
//! Why: under load glibc's malloc/free (arenas, `malloc_consolidate`) were a
//! fifth to a quarter of the service's CPU, and mimalloc gave the service
//! +14 % lifecycles/s. But mimalloc as the allocator of every process cost
//! the CLI's start-up 0.3 to 0.8 ms (CPU: 2.0 -> 2.8 ms for
//! `--generate-cli-skeleton`), nearly all of it at first use: mimalloc
//! reserves a 1 GiB arena marked `MADV_HUGEPAGE`, so the first touches fault
//! in (and zero) 2 MiB pages, and at exit it purges its pages again with a
//! series of `madvise(MADV_DONTNEED)`. Its load-time constructor still runs in
//! every process (it reads its `MIMALLOC_*` options from the environment,
//! `/proc/sys/vm/overcommit_memory` and the THP setting, and maps its page
//! map: ~10 system calls, ~0.03 ms of CPU); what a CLI run no longer pays is
//! mimalloc's first use.
//!
//! Soundness: every block must be freed (and reallocated) by the allocator
//! that allocated it. The choice is one atomic that goes from `UNDECIDED` to
//! `SYSTEM` or `MIMALLOC` once and never changes after, and every allocation
//! reads a decided value (deciding it itself if need be), so every `dealloc`
//! or `realloc`, which comes after its block's allocation, reads the same
//! value its allocation did:
//!
//! - On Linux with glibc, [`decide`] runs from `.init_array`, before `main`
//!   and before any Rust code of ours allocates (glibc passes `argc`, `argv`
//!   and `envp` to these functions; std reads its `std::env::args` the same
//!   way). It looks at `argv[1]`, the word `main` dispatches on, and at
//!   `CPJOBS_ALLOCATOR` (`system` or `mimalloc`: an override, to compare
//!   both on one binary), without allocating.
//! - Anything that allocates through the global allocator before `decide`
//!   runs (another crate's constructor, say: the order of `.init_array`
//!   entries between objects is not specified) settles the choice on the
//!   system allocator for the whole process; `decide` then cannot change it,
//!   and `serve` runs on glibc's malloc: slower, never unsound.
//! - Elsewhere (`decide` not registered) the first allocation settles on the
//!   system allocator.
//!
//! Memory that C code allocates with `malloc` (SQLite's, say) never goes
//! through here and is freed with `free`, whatever is chosen here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

/// Which allocator this process uses: `UNDECIDED` until [`decide`] or the
/// first allocation, then `SYSTEM` or `MIMALLOC` for good. `Relaxed` is
/// enough: the value changes once, and a block's `dealloc` happens after its
/// `alloc` (which read or wrote the decided value), so by coherence it cannot
/// read an earlier value.
static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The subcommands that run on mimalloc: `argv[1]` as `main` matches it.
fn wants_mimalloc(arg1: &[u8]) -> bool {
    arg1 == b"serve" || arg1 == b"worker"
}

/// The `#[global_allocator]`: forwards each call to the chosen allocator.
pub(crate) struct Chosen;

impl Chosen {
    #[inline(always)]
    fn mimalloc() -> bool {
        match CHOICE.load(Ordering::Relaxed) {
            MIMALLOC => true,
            SYSTEM => false,
            _ => settle(),
        }
    }
}

/// An allocation before [`decide`] ran: the system allocator, for good
/// (unless `decide` got there first, between the load and here).
#[cold]
fn settle() -> bool {
    match CHOICE.compare_exchange(UNDECIDED, SYSTEM, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => false,
        Err(decided) => decided == MIMALLOC,
    }
}

// SAFETY: each method forwards to one of two sound allocators, the same one
// for a block's whole life (see the module's documentation), with the
// caller's arguments unchanged, so each inherits its contract.
unsafe impl GlobalAlloc for Chosen {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { if Self::mimalloc() { MiMalloc.alloc(layout) } else { System.alloc(layout) } }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe { if Self::mimalloc() { MiMalloc.alloc_zeroed(layout) } else { System.alloc_zeroed(layout) } }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, so by the one chosen
        // (the choice never changes once an allocation has read it).
        unsafe { if Self::mimalloc() { MiMalloc.dealloc(ptr, layout) } else { System.dealloc(ptr, layout) } }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`.
        unsafe {
            if Self::mimalloc() {
                MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

/// What `CPJOBS_ALLOCATOR` asks for, if it is set to a known name: `system`
/// or `mimalloc` for any subcommand (to compare the two on the same binary).
fn requested(value: &[u8]) -> Option<u8> {
    match value {
        b"system" => Some(SYSTEM),
        b"mimalloc" => Some(MIMALLOC),
        _ => None,
    }
}

/// Called by glibc's dynamic loader (or the static start-up code) with the
/// process's arguments and environment, before `main`. Allocates nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn decide(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
    envp: *const *const std::ffi::c_char,
) {
    use std::ffi::CStr;
    let mut choice = SYSTEM;
    if argc >= 2 && !argv.is_null() {
        // SAFETY: glibc passes `argv` with `argc` valid entries (plus a
        // terminating null), each a NUL-terminated string that lives as long
        // as the process; `CStr::from_ptr` reads up to the NUL.
        let arg1 = unsafe { *argv.add(1) };
        // SAFETY: as above.
        if !arg1.is_null() && wants_mimalloc(unsafe { CStr::from_ptr(arg1) }.to_bytes()) {
            choice = MIMALLOC;
        }
    }
    if !envp.is_null() {
        let mut at = envp;
        // SAFETY: `envp` is a null-terminated array of NUL-terminated strings
        // (the initial environment: nothing can have changed it yet).
        while let Some(entry) = unsafe { (*at).as_ref() } {
            // SAFETY: a non-null entry of `envp` (above).
            let entry = unsafe { CStr::from_ptr(entry) }.to_bytes();
            if let Some(value) = entry.strip_prefix(b"CPJOBS_ALLOCATOR=") {
                choice = requested(value).unwrap_or(choice);
            }
            // SAFETY: `at` was not the terminating null, so the next entry exists.
            at = unsafe { at.add(1) };
        }
    }
    // Fails only if something allocated already: the system allocator stays.
    let _ = CHOICE.compare_exchange(UNDECIDED, choice, Ordering::Relaxed, Ordering::Relaxed);
}

/// Registers [`decide`] as a constructor (as std registers its own reader of
/// `argv`). `#[used]` keeps it through linking and LTO.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
// SAFETY: `.init_array` entries are called once, single-threaded, before
// `main`, with the signature of `decide`; `decide` allocates nothing and
// touches only an atomic.
#[unsafe(link_section = ".init_array")]
static DECIDE: extern "C" fn(std::ffi::c_int, *const *const std::ffi::c_char, *const *const std::ffi::c_char) = decide;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_long_running_subcommands_get_mimalloc() {
        assert!(wants_mimalloc(b"serve"));
        assert!(wants_mimalloc(b"worker"));
        for other in [&b"codepipeline"[..], b"clients", b"", b"serve-x", b"--serve", b"help"] {
            assert!(!wants_mimalloc(other), "{other:?}");
        }
    }

    #[test]
    fn the_environment_can_ask_for_either() {
        assert_eq!(requested(b"system"), Some(SYSTEM));
        assert_eq!(requested(b"mimalloc"), Some(MIMALLOC));
        assert_eq!(requested(b"jemalloc"), None);
        assert_eq!(requested(b""), None);
    }

    #[test]
    fn the_choice_is_made_before_any_allocation() {
        // The test harness is not `serve`: decided on the system allocator,
        // and allocations keep working through the choice.
        assert_ne!(CHOICE.load(Ordering::Relaxed), UNDECIDED);
        let v: Vec<u64> = (0..1000).collect();
        assert_eq!(v.iter().sum::<u64>(), 499_500);
    }
}
