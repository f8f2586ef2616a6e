//! TLS to a real server (issue 11, "Several nodes"): the test cluster
//! serves TLS with a certificate for 127.0.0.1 and localhost from a
//! throwaway CA (`CPJOBS_TEST_POSTGRES_CA`); a second CA
//! (`CPJOBS_TEST_POSTGRES_OTHER_CA`) signed nothing of the server's.
//! Whether a store's connections are encrypted is read from the server's
//! own `pg_stat_ssl`, by the application name each store here connects with.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use cpjobs_core::Store;
use cpjobs_core::testing::contract::job;
use cpjobs_store_postgres::{PgOptions, PgStore};

use crate::support::{admin, admin_value, new_schema, ready, server_url, url_of};

/// The test CA and the other one, when the test server has them.
fn cas() -> Option<(PathBuf, PathBuf)> {
    if !ready() {
        return None;
    }
    match (std::env::var_os("CPJOBS_TEST_POSTGRES_CA"), std::env::var_os("CPJOBS_TEST_POSTGRES_OTHER_CA")) {
        (Some(ca), Some(other)) => Some((ca.into(), other.into())),
        _ => {
            assert!(
                std::env::var("CPJOBS_REQUIRE_POSTGRES").is_err(),
                "CPJOBS_TEST_POSTGRES_CA is not set: scripts/test-postgres.sh makes the test server's CA"
            );
            eprintln!(
                "skipped: CPJOBS_TEST_POSTGRES_CA is not set (the test server is not scripts/test-postgres.sh's)"
            );
            None
        }
    }
}

/// A schema of its own and an application name no other store uses.
struct Case {
    schema: String,
    app: String,
}

impl Case {
    fn new() -> Case {
        static N: AtomicUsize = AtomicUsize::new(0);
        Case {
            schema: new_schema(),
            app: format!("cpjobs-tls-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)),
        }
    }

    /// The test server's URL with `host` for its host (the connection still
    /// goes to 127.0.0.1) and `extra` query parameters.
    fn url(&self, host: &str, extra: &str) -> String {
        let mut url = url_of(&self.schema).replacen("@127.0.0.1:", &format!("@{host}:"), 1);
        url.push_str(&format!("&application_name={}", self.app));
        if host != "127.0.0.1" && host != "localhost" {
            url.push_str("&hostaddr=127.0.0.1");
        }
        if !extra.is_empty() {
            url.push('&');
            url.push_str(extra);
        }
        url
    }

    fn open(&self, host: &str, extra: &str, ca: Option<&PathBuf>) -> Result<PgStore, String> {
        let options = PgOptions { ca_file: ca.cloned(), max_connections: 2, ..PgOptions::new(self.url(host, extra)) };
        PgStore::open(&options).map_err(|e| e.to_string())
    }

    /// Whether the open connections of this case's stores are encrypted
    /// (`None` when none is open).
    fn encrypted(&self) -> Option<bool> {
        let sql = format!(
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = '{}'",
            self.app
        );
        admin_value(&sql).map(|v| v == "t")
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            admin(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A write and a read through `store`, so its connections carried real work.
fn works(store: &PgStore) {
    store.write(&mut |tx| tx.insert_job(&job("j", "q", 1))).expect("write");
    assert!(store.read(&mut |tx| tx.get_job("j")).expect("read").is_some());
}

#[test]
fn with_the_ca_the_connections_are_encrypted_and_verified() {
    let Some((ca, _)) = cas() else { return };
    // store_ca_file alone demands TLS, also to a server on this machine.
    let case = Case::new();
    let store = case.open("127.0.0.1", "", Some(&ca)).expect("open over TLS");
    works(&store);
    assert!(store.transport().starts_with("TLS required, verified against the CA file"), "{}", store.transport());
    assert_eq!(case.encrypted(), Some(true), "pg_stat_ssl shows the store's connections encrypted");
    drop(store);

    // sslrootcert in the URL, by the name the certificate lists, verify-full spelled out.
    let case = Case::new();
    let store =
        case.open("localhost", &format!("sslmode=verify-full&sslrootcert={}", ca.display()), None).expect("open");
    works(&store);
    assert_eq!(case.encrypted(), Some(true));
    drop(store);

    // prefer: TLS when offered, and verified.
    let case = Case::new();
    let store = case.open("127.0.0.1", "sslmode=prefer", Some(&ca)).expect("open");
    assert_eq!(case.encrypted(), Some(true));
    assert!(store.transport().starts_with("TLS when the server offers it"), "{}", store.transport());
}

#[test]
fn a_certificate_from_another_ca_is_refused_under_every_mode() {
    let Some((_, other)) = cas() else { return };
    let case = Case::new();
    for extra in ["", "sslmode=require", "sslmode=verify-ca", "sslmode=prefer"] {
        let e = case.open("127.0.0.1", extra, Some(&other)).err().unwrap_or_else(|| panic!("{extra:?} accepted"));
        assert!(
            e.contains(
                "cannot connect to PostgreSQL: the TLS certificate of the PostgreSQL server 127.0.0.1 is not \
                        signed by a CA cpjobs trusts (the CA file"
            ) && e.contains("other-ca.crt named by store_ca_file)"),
            "{extra:?}: {e}"
        );
        assert!(!e.contains(&server_url().expect("url")), "the password stays out: {e}");
    }
    // prefer never falls back to clear text after a failed handshake.
    assert_eq!(case.encrypted(), None, "no connection of this case was left open");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let Some((ca, _)) = cas() else { return };
    let case = Case::new();
    for extra in ["", "sslmode=verify-ca"] {
        let e = case.open("db.wrong.invalid", extra, Some(&ca)).err().unwrap_or_else(|| panic!("{extra:?} accepted"));
        assert!(
            e.contains("the TLS certificate of the PostgreSQL server db.wrong.invalid is not valid for that name")
                && e.contains("db.wrong.invalid"),
            "{extra:?}: {e}"
        );
    }
}

#[test]
fn tls_off_or_unset_on_this_machine_is_clear_text_and_works() {
    if cas().is_none() {
        return;
    }
    let case = Case::new();
    let store = case.open("127.0.0.1", "sslmode=disable", None).expect("open");
    works(&store);
    assert_eq!(store.transport(), "clear text (no TLS)");
    assert_eq!(case.encrypted(), Some(false));
    drop(store);

    let case = Case::new();
    let store = case.open("localhost", "", None).expect("open");
    works(&store);
    assert_eq!(case.encrypted(), Some(false), "sslmode unset, a server on this machine: clear text");
}

#[test]
fn without_a_ca_file_the_systems_cas_decide() {
    let Some(_) = cas() else { return };
    // The throwaway CA is in no system store.
    let e = Case::new().open("127.0.0.1", "sslmode=require", None).expect_err("refused");
    assert!(
        e.contains("is not signed by a CA cpjobs trusts (the system's CA certificates)")
            || e.contains("the system's store has none"),
        "{e}"
    );
}

#[test]
fn require_against_a_server_without_tls_names_the_cause() {
    let Some((ca, _)) = cas() else { return };
    // A server that answers PostgreSQL's SSLRequest with 'N', as one with ssl=off does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().expect("accept");
        let mut request = [0u8; 8];
        s.read_exact(&mut request).expect("SSLRequest");
        assert_eq!(request, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], "an SSLRequest");
        s.write_all(b"N").expect("answer");
        // Whatever comes next would be the start-up message in clear text.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        rest
    });
    let url = format!("postgres://cpjobs:pw@127.0.0.1:{port}/postgres?sslmode=require");
    let options = PgOptions { ca_file: Some(ca), ..PgOptions::new(url) };
    let e = PgStore::open(&options).expect_err("refused").to_string();
    assert!(e.contains("the PostgreSQL server 127.0.0.1 offers no TLS, and the URL's sslmode demands TLS"), "{e}");
    assert!(server.join().expect("server").is_empty(), "nothing was sent in clear text");
}
