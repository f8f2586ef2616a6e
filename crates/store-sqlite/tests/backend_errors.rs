//! Issue 14, "Backend errors vanish": a store failure answers the caller
//! `InternalFailure` without its cause, and the cause reaches the operator's
//! log once per failure, with the operation it failed. The store is the real
//! SQLite store behind a switch that makes it fail as a broken disk would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cpjobs_core::testing::domain::{CUSTOMER, World, at, partner_pipeline};
use cpjobs_core::{Store, StoreError, Tx};
use cpjobs_store_sqlite::SqliteStore;
use serde_json::json;

/// What a failed WAL sync reports.
const CAUSE: &str = "disk I/O error: the WAL could not be synced";

/// The SQLite store, failing every transaction while `down` is set.
struct Failing {
    inner: SqliteStore,
    down: Arc<AtomicBool>,
}

impl Store for Failing {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Backend(CAUSE.into()).into());
        }
        self.inner.read(f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Backend(CAUSE.into()).into());
        }
        self.inner.write(f)
    }
}

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
    }

    /// Log lines that carry the cause.
    fn failures(&self) -> Vec<String> {
        self.text().lines().filter(|l| l.contains(CAUSE)).map(str::to_owned).collect()
    }
}

fn temp_store() -> SqliteStore {
    let dir = std::env::temp_dir().join(format!("cpjobs-backend-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{:?}.sqlite", std::thread::current().id()));
    let _ = std::fs::remove_file(&path);
    SqliteStore::open(path).expect("open store")
}

#[test]
fn store_failures_are_logged_with_cause_and_operation_once() {
    let down = Arc::new(AtomicBool::new(false));
    let log = Log::default();
    let sink = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let w = World::new(Failing { inner: temp_store(), down: Arc::clone(&down) });
        w.ok(CUSTOMER, "CreatePipeline", json!({"pipeline": partner_pipeline("app")}), 0);
        w.ok(CUSTOMER, "StartPipelineExecution", json!({"name": "app"}), 0);
        assert!(log.failures().is_empty(), "{}", log.text());

        down.store(true, Ordering::SeqCst);
        // A read, a write and a submitted job write: each answers
        // InternalFailure without the cause, and logs it once.
        for (n, (op, input)) in [
            ("GetPipeline", json!({"name": "app"})),
            ("UpdatePipeline", json!({"pipeline": partner_pipeline("app")})),
            ("AcknowledgeJob", json!({"jobId": "00000000-0000-0000-0000-000000000000", "nonce": "1"})),
        ]
        .into_iter()
        .enumerate()
        {
            let e = w.call(CUSTOMER, op, input, 1).expect_err("the store is down");
            assert_eq!((e.status, e.code.as_str()), (500, "InternalFailure"), "{e:?}");
            assert!(!e.message.contains("disk"), "the cause stays in the log: {e:?}");
            let failures = log.failures();
            assert_eq!(failures.len(), n + 1, "one line per failure:\n{}", log.text());
            let line = failures.last().expect("logged");
            assert!(line.contains("ERROR") && line.contains(op), "{line}");
        }

        // The sweep logs its own failures: the server may drop the error.
        assert!(w.svc.tick(at(60)).is_err());
        let failures = log.failures();
        assert_eq!(failures.len(), 4, "{}", log.text());
        assert!(failures[3].contains("Sweep"), "{}", failures[3]);

        // Back up, nothing was lost and nothing more is logged.
        down.store(false, Ordering::SeqCst);
        assert_eq!(w.ok(CUSTOMER, "GetPipeline", json!({"name": "app"}), 2)["pipeline"]["version"], 1);
        w.svc.tick(at(60)).expect("the sweep runs again");
        assert_eq!(log.failures().len(), 4, "{}", log.text());
    });
}
