//! What the PostgreSQL store's tests share: the server they use, and a
//! fresh schema per store so tests run in parallel on one database.
//!
//! The server is named by `CPJOBS_TEST_POSTGRES` (a URL; scripts/test.sh
//! starts a throwaway cluster and sets it). Without it the tests fail when
//! `CI` or `CPJOBS_REQUIRE_POSTGRES` is set, and are skipped (saying so)
//! only on a developer's machine that did not run the setup.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};

use cpjobs_core::store::{Tx, WriteDone, WriteFn};
use cpjobs_core::{Store, StoreError};
use cpjobs_store_postgres::{PgOptions, PgStore};

/// The variable that names the test server.
pub const URL_VAR: &str = "CPJOBS_TEST_POSTGRES";

/// The test server's URL, if one is configured; panics when one is required.
pub fn server_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = ["CI", "CPJOBS_REQUIRE_POSTGRES"]
                .iter()
                .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"));
            assert!(
                !required,
                "{URL_VAR} is not set: the PostgreSQL store's tests need a server \
                 (scripts/test.sh starts one; by hand: `source scripts/test-postgres.sh`)"
            );
            eprintln!("skipped: {URL_VAR} is not set (run `source scripts/test-postgres.sh` to test on PostgreSQL)");
            None
        }
    }
}

/// Whether the tests run (see [`server_url`]).
pub fn ready() -> bool {
    server_url().is_some()
}

/// Runs `sql` on the test server, outside any store.
pub fn admin(sql: &str) {
    let _ = admin_value(sql);
}

/// The first column of the first row `sql` answers on the test server
/// (outside any store), as text; `None` for no row or NULL.
pub fn admin_value(sql: &str) -> Option<String> {
    let url = server_url().expect("a test server");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let (client, conn) =
            tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect to the test server");
        let driver = tokio::spawn(conn);
        let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        drop(client);
        let _ = driver.await;
        messages.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
            _ => None,
        })?
    })
}

/// A new, empty schema's name.
pub fn new_schema() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    admin(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"));
    name
}

/// The URL of the test server with `schema` as the connection's search path.
pub fn url_of(schema: &str) -> String {
    let url = server_url().expect("a test server");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// Opens the store on `schema`.
pub fn open(schema: &str) -> PgStore {
    PgStore::open(&PgOptions::new(url_of(schema))).expect("open the PostgreSQL store")
}

/// A store on a schema of its own, dropped with it.
pub struct Fresh {
    store: Option<PgStore>,
    schema: String,
}

impl Fresh {
    pub fn new() -> Fresh {
        let schema = new_schema();
        Fresh { store: Some(open(&schema)), schema }
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn store(&self) -> &PgStore {
        self.store.as_ref().expect("open until dropped")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        drop(self.store.take());
        if !std::thread::panicking() {
            admin(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

impl Store for Fresh {
    fn read<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.store().read(f)
    }

    fn write<T, E: From<StoreError>>(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, E>) -> Result<T, E> {
        self.store().write(f)
    }

    fn inline_reads(&self) -> bool {
        self.store().inline_reads()
    }

    fn write_then<T, E>(&self, f: WriteFn<T, E>, done: WriteDone<T, E>)
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.store().write_then(f, done)
    }
}
