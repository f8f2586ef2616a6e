//! The TLS decision without a server: the URL's parameters taken out, the
//! mode chosen, and a CA file that cannot be used refused before any
//! connection (the handshakes themselves are tested on a real server in
//! tests/tls/mod.rs).

use super::*;

fn params(mode: Option<&str>, root_cert: Option<&str>) -> SslParams {
    SslParams { mode: mode.map(str::to_owned), root_cert: root_cert.map(str::to_owned) }
}

#[test]
fn sslmode_and_sslrootcert_leave_the_url_and_the_rest_stays() {
    let (rest, ssl) = take_ssl_params(
        "postgres://u:p%3Fw@db.internal:5432/cpjobs?sslmode=verify-full&options=-csearch_path%3Dx&sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem",
    )
    .unwrap();
    assert_eq!(rest, "postgres://u:p%3Fw@db.internal:5432/cpjobs?options=-csearch_path%3Dx");
    assert_eq!(ssl, params(Some("verify-full"), Some("/etc/ca dir/ca.pem")));

    let (rest, ssl) = take_ssl_params("postgresql://db/cpjobs?sslmode=require").unwrap();
    assert_eq!((rest.as_str(), ssl), ("postgresql://db/cpjobs", params(Some("require"), None)));

    let (rest, ssl) = take_ssl_params("postgres://u@db/cpjobs").unwrap();
    assert_eq!((rest.as_str(), ssl), ("postgres://u@db/cpjobs", params(None, None)));

    // The password is the credentials' part even when it holds what a query would.
    let (rest, ssl) = take_ssl_params("postgres://u:a?sslmode=disable@db/x?application_name=n").unwrap();
    assert_eq!((rest.as_str(), ssl), ("postgres://u:a?sslmode=disable@db/x?application_name=n", params(None, None)));

    assert!(take_ssl_params("postgres://db/x?sslrootcert=%FF").unwrap_err().contains("not valid UTF-8"));
}

#[test]
fn libpq_key_value_form_is_read_with_quotes_and_escapes() {
    let (rest, ssl) =
        take_ssl_params("host=db.internal sslmode = verify-ca user=cpjobs sslrootcert='/ca dir/it\\'s.pem' dbname=x")
            .unwrap();
    assert_eq!(rest, "host=db.internal user=cpjobs dbname=x ");
    assert_eq!(ssl, params(Some("verify-ca"), Some("/ca dir/it's.pem")));
    Config::from_str(&rest).expect("the rest parses");

    // Text that is not key=value is left for tokio-postgres to refuse.
    let (rest, ssl) = take_ssl_params("host=db sslmode='require").unwrap();
    assert_eq!((rest.as_str(), ssl), ("host=db sslmode='require", params(None, None)));
}

#[test]
fn unset_sslmode_demands_tls_off_this_machine_and_with_a_ca_file() {
    assert_eq!(decide(Asked::Unset, false, true).unwrap().0, SslMode::Disable);
    assert_eq!(decide(Asked::Unset, false, false).unwrap().0, SslMode::Require);
    assert_eq!(decide(Asked::Unset, true, true).unwrap().0, SslMode::Require);
    assert_eq!(decide(Asked::Prefer, false, false).unwrap(), (SslMode::Prefer, None));
    assert_eq!(decide(Asked::Disable, false, false).unwrap(), (SslMode::Disable, None));
    assert_eq!(decide(Asked::Require, false, true).unwrap().0, SslMode::Require);
    assert!(decide(Asked::Disable, true, true).unwrap_err().contains("sslmode=disable, and a CA file"));
}

#[test]
fn this_machine_is_loopback_localhost_or_a_socket_for_every_host() {
    let local = |url: &str| all_local(&Config::from_str(url).unwrap());
    assert!(local("postgres://u@127.0.0.1:5432/x"));
    assert!(local("postgres://u@localhost/x"));
    assert!(local("postgres://u@[::1]:5432/x"));
    assert!(local("host=/run/postgresql user=u"));
    assert!(local("postgres://u@db.internal/x?hostaddr=127.0.0.1"), "the connection goes to hostaddr");
    assert!(!local("postgres://u@db.internal/x"));
    assert!(!local("postgres://u@10.0.0.5/x"));
    assert!(!local("postgres://u@127.0.0.1,db.internal/x"));
    assert!(!local("postgres://u@localhost/x?hostaddr=10.0.0.5"));
}

fn refused(url: &str, ca: Option<&Path>) -> String {
    match Tls::configure(url, ca) {
        Ok(_) => panic!("{url} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn contradictions_and_unknown_modes_are_refused_by_name() {
    let e = refused("postgres://u:secret@db/x?sslmode=allow", None);
    assert!(e.contains("sslmode=\"allow\"") && e.contains("verify-full") && !e.contains("secret"), "{e}");
    let e = refused("postgres://u@db/x?sslrootcert=/a.pem", Some(Path::new("/b.pem")));
    assert!(e.contains("set the CA file in one place"), "{e}");
    let e = refused("postgres://u@db/x?sslmode=disable&sslrootcert=/a.pem", None);
    assert!(e.contains("sslmode=disable, and a CA file"), "{e}");
    let e = refused("postgres://u@db/x?sslcert=/c.pem", None);
    assert!(e.contains("is not valid"), "{e}");
}

#[test]
fn a_missing_or_garbled_ca_file_is_refused_before_connecting() {
    let dir = std::env::temp_dir().join(format!("cpjobs-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = "postgres://u@127.0.0.1:1/x";

    let e = refused(url, Some(&dir.join("missing.pem")));
    assert!(e.contains("cannot read the CA file") && e.contains("missing.pem named by store_ca_file"), "{e}");

    let text = dir.join("text.pem");
    std::fs::write(&text, "not a certificate\n").unwrap();
    let e = refused(url, Some(&text));
    assert!(e.contains("holds no PEM certificate"), "{e}");

    let bad_base64 = dir.join("bad-base64.pem");
    std::fs::write(&bad_base64, "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n").unwrap();
    let e = refused(url, Some(&bad_base64));
    assert!(e.contains("is not valid PEM"), "{e}");

    // Well-formed PEM around bytes that are no certificate.
    let not_der = dir.join("not-der.pem");
    std::fs::write(&not_der, "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n").unwrap();
    let e = refused(&format!("{url}?sslrootcert={}", not_der.display()), None);
    assert!(e.contains("certificate 1 of the CA file") && e.contains("named by sslrootcert"), "{e}");

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_local_server_without_sslmode_is_reached_in_clear_text() {
    let (config, tls) = Tls::configure("postgres://u@127.0.0.1:5432/x?application_name=a", None).unwrap();
    assert_eq!(config.get_ssl_mode(), SslMode::Disable);
    assert_eq!(config.get_application_name(), Some("a"));
    assert_eq!(tls.summary(), "clear text (no TLS)");
}
