//! `cpjobs serve`, wired in one line of steps: arguments -> data directory ->
//! configuration (a file, or the development account) -> store -> service ->
//! HTTP until SIGTERM or ctrl-c.
//!
//! The steps live here, in the binary, because only the binary knows every
//! piece: the server crate knows HTTP but no store, the store knows SQL but
//! no HTTP.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use cpjobs_core::{Api, Service, ServiceConfig, Store};
use cpjobs_server::config::{DevAccount, ServerSettings, StoreSettings, redact_store_url};
use cpjobs_server::{DomainStats, Options, StatsSource};
use cpjobs_store_postgres::{PgOptions, PgStore};
use cpjobs_store_sqlite::SqliteStore;

use crate::artifacts::Artifacts;
use crate::cmdline;
use crate::logging::{self, LogFormat};
use crate::paths;

/// The address `cpjobs serve` listens on by default.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7700";

/// Where `cpjobs serve` writes the address it listens on, so that `cpjobs
/// dev-env` can point clients at it without being told the port.
pub(crate) const ENDPOINT_FILE: &str = "endpoint";

const USAGE: &str = "usage: cpjobs serve [--config FILE] [--listen ADDR] [--console ADDR] [--data-dir DIR]
                    [--store STORE] [--service-key-file FILE] [--public-url URL]
                    [--log-format text|json]

Runs the CodePipeline-compatible job service (AWS JSON 1.1 API, SigV4) with its S3
artifact store on one port, on the embedded SQLite store in the data directory, or
on a PostgreSQL database that several service nodes can share.

  --config FILE      accounts, principals and third-party action types (TOML); without it
                     a development account is created in the data directory on first start
  --listen ADDR      address to listen on (default 127.0.0.1:7700; port 0 picks a free one)
  --console ADDR     also serve the browser console at http://ADDR/console/ (off unless given;
                     sign in with an account's access key id and secret access key)
  --data-dir DIR     where the service keeps its data (default $XDG_DATA_HOME/cpjobs,
                     else ~/.local/share/cpjobs)
  --store STORE      where jobs, pipelines and executions live: sqlite (the default, a file in
                     the data directory) or postgres://USER[:PASSWORD]@HOST[:PORT]/DB (the
                     password may instead come from PGPASSWORD or the config's
                     store_password_file); TLS to it is required unless the server is on
                     this machine, verified against the system's CAs or the config's
                     store_ca_file (the URL's sslmode and sslrootcert say otherwise);
                     overrides the config's `store`
  --service-key-file FILE
                     the 32-byte key that signs job credentials, client tokens and console
                     sessions, private to its owner (chmod 600); give every node the same
                     file (default: service.key in the data directory, made on first
                     start); overrides the config's `service_key_file`
  --public-url URL   where others reach this service (http[s]://HOST[:PORT]), which the
                     URLs of webhooks start with; by default http:// and the listen address
  --log-format FMT   text (default on a terminal) or json (default otherwise);
                     RUST_LOG sets the level (default info)
  -h, --help         this text";

/// Validated `cpjobs serve` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServeArgs {
    /// `--config`.
    pub(crate) config: Option<PathBuf>,
    /// `--listen`.
    pub(crate) listen: SocketAddr,
    /// `--console`, when given.
    pub(crate) console: Option<SocketAddr>,
    /// `--data-dir`, or the default.
    pub(crate) data_dir: PathBuf,
    /// `--log-format`, when given.
    pub(crate) log_format: Option<LogFormat>,
    /// `--store`, when given: `Some(None)` for SQLite, else the PostgreSQL URL.
    pub(crate) store: Option<Option<String>>,
    /// `--service-key-file`, when given.
    pub(crate) service_key_file: Option<PathBuf>,
    /// `--public-url`, when given (no trailing `/`).
    pub(crate) public_url: Option<String>,
}

/// Parses the arguments after `serve`; `Ok(None)` means help was asked for.
pub(crate) fn parse_args(args: &[String]) -> Result<Option<ServeArgs>, String> {
    use lexopt::prelude::*;
    let mut config = None;
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut data_dir = None;
    let mut log_format = None;
    let mut console = None;
    let mut store = None;
    let mut service_key_file = None;
    let mut public_url = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("config") => config = Some(PathBuf::from(cmdline::value(&mut parser)?)),
            Long("listen") => listen = cmdline::value(&mut parser)?,
            Long("console") => {
                let v = cmdline::value(&mut parser)?;
                let addr =
                    v.parse().map_err(|_| format!("--console {v:?} is not an address such as 127.0.0.1:7701"))?;
                console = Some(addr);
            }
            Long("data-dir") => data_dir = Some(PathBuf::from(cmdline::value(&mut parser)?)),
            Long("public-url") => public_url = Some(parse_public_url(&cmdline::value(&mut parser)?)?),
            Long("log-format") => log_format = Some(LogFormat::parse(&cmdline::value(&mut parser)?)?),
            Long("store") => {
                let v = cmdline::value(&mut parser)?;
                store = Some(cpjobs_server::config::store_url(&v).map_err(|e| format!("--{e}"))?);
            }
            Long("service-key-file") => service_key_file = Some(PathBuf::from(cmdline::value(&mut parser)?)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let listen = listen.parse().map_err(|_| format!("--listen {listen:?} is not an address such as 127.0.0.1:7700"))?;
    let data_dir = match data_dir {
        Some(d) => d,
        None => paths::default_data_dir()?,
    };
    Ok(Some(ServeArgs { config, listen, console, data_dir, log_format, store, service_key_file, public_url }))
}

/// Checks `--public-url`: an http or https URL with a host and no path,
/// query or fragment (webhook paths are added to it).
fn parse_public_url(v: &str) -> Result<String, String> {
    let bad = || format!("--public-url {v:?} is not a URL such as https://cpjobs.example.com or http://10.0.0.5:7700");
    let trimmed = v.trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://")).ok_or_else(bad)?;
    let well_formed = !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if well_formed { Ok(trimmed.to_owned()) } else { Err(bad()) }
}

/// Runs `cpjobs serve` with the arguments after `serve`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cpjobs serve: {e}\nTry 'cpjobs serve --help' for the options.");
            return ExitCode::from(2);
        }
    };
    logging::init(args.log_format);
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cpjobs serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &ServeArgs) -> Result<(), String> {
    cpjobs_artifacts::create_private_dir(&args.data_dir)
        .map_err(|e| format!("cannot use data directory {}: {e}", args.data_dir.display()))?;
    let (config, settings, dev) = match &args.config {
        Some(path) => {
            let (config, settings) = cpjobs_server::config::load_all(path).map_err(|e| e.to_string())?;
            (config, settings, None)
        }
        None => {
            let dev = cpjobs_server::config::dev_account(&args.data_dir).map_err(|e| e.to_string())?;
            (dev.config.clone(), ServerSettings::default(), Some(dev))
        }
    };
    let mut store = settings.store.clone();
    if let Some(url) = &args.store {
        store.url = url.clone();
    }
    let mut settings = settings;
    if let Some(path) = &args.service_key_file {
        settings.service_key_file = Some(path.clone());
    }
    let (service, mut options, console_key, public_endpoint) = open_domain(&config, &args.data_dir, &store, &settings)?;
    if args.console.is_some() {
        options.console = Some(cpjobs_server::console::Settings::new(console_key));
    }
    // Connection limits and who reads /metrics, from the same file.
    let options = settings.apply(options);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shutdown = cpjobs_server::shutdown_signal();
        // 0.0.0.0 is where it listens, not where a client connects.
        let shown = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
        let endpoint = format!("http://{shown}");
        // Set once, before the first request: webhook URLs start with it.
        let _ = public_endpoint.set(args.public_url.clone().unwrap_or_else(|| endpoint.clone()));
        // Best effort: only `cpjobs dev-env` reads it, and says so when it is missing.
        if let Err(e) = cpjobs_private::write_private(
            &args.data_dir.join(ENDPOINT_FILE),
            format!("{endpoint}\n").as_bytes(),
            cpjobs_private::IfExists::Replace,
        ) {
            tracing::warn!(error = %e, "cannot record the endpoint for `cpjobs dev-env`");
        }
        let mut banner = format!("cpjobs serve: listening on {endpoint} (region {})\n", config.region);
        let console = match args.console {
            Some(at) => {
                let l = tokio::net::TcpListener::bind(at).await.map_err(|e| format!("cannot listen on {at}: {e}"))?;
                let a = l.local_addr().map_err(|e| e.to_string())?;
                let shown = if a.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], a.port())) } else { a };
                banner.push_str(&format!("cpjobs serve: console on http://{shown}/console/\n"));
                Some(l)
            }
            None => None,
        };
        if let Some(dev) = &dev {
            banner.push_str(&dev_banner(dev, &endpoint, &args.data_dir));
        }
        say(&banner);
        tracing::info!(listen = %addr, region = %config.region, accounts = config.accounts.len(), "serving");
        let metrics = match options.metrics.listen {
            Some(at) => {
                Some(tokio::net::TcpListener::bind(at).await.map_err(|e| format!("cannot listen on {at}: {e}"))?)
            }
            None => None,
        };
        let listeners = cpjobs_server::Listeners { api: listener, metrics, console };
        cpjobs_server::serve_listeners(listeners, service, &config, options, shutdown)
            .await
            .map_err(|e| format!("server error: {e}"))?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// What a development-account start prints, on every start (not only the
/// first): the walkthrough pastes the `export` line whenever it runs.
fn dev_banner(dev: &DevAccount, endpoint: &str, data_dir: &Path) -> String {
    let verb = if dev.created { "created" } else { "in use" };
    format!(
        "Development account {} {verb} (a local development credential, kept in {}).\n\
         To point AWS CLI and SDKs at this service (or run: eval \"$(cpjobs dev-env{})\"):\n\n\
         {}\n",
        dev.config.accounts[0].id,
        dev.path.display(),
        crate::dev_env::data_dir_arg(data_dir),
        crate::dev_env::export_line(&dev.config, endpoint),
    )
}

/// Writes to stdout, ignoring a closed stdout: the service must keep serving
/// when whoever started it stopped reading (`println!` would panic).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The domain over the chosen store (SQLite in the data directory unless a
/// PostgreSQL URL is given), with the artifact store on the same port.
fn open_domain(
    config: &ServiceConfig,
    data_dir: &Path,
    store: &StoreSettings,
    settings: &ServerSettings,
) -> Result<Wired, String> {
    match &store.url {
        None => {
            let path = data_dir.join("cpjobs.sqlite3");
            let sqlite = SqliteStore::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            tracing::info!(store = %path.display(), "store: SQLite");
            wire(config, data_dir, settings, sqlite)
        }
        Some(url) => {
            let mut options = PgOptions::new(url.clone());
            if store.password.is_some() {
                options.password = store.password.clone();
            }
            if let Some(n) = store.max_connections {
                options.max_connections = n;
            }
            options.ca_file = store.ca_file.clone();
            let shown = redact_store_url(url);
            let pg = PgStore::open(&options).map_err(|e| format!("cannot open the store {shown}: {e}"))?;
            tracing::info!(
                store = %shown,
                schema_version = pg.schema_version(),
                transport = pg.transport(),
                "store: PostgreSQL"
            );
            wire(config, data_dir, settings, pg)
        }
    }
}

/// The service, the server's options for it, the console's session key
/// (derived from the service key), and the cell the service's public
/// endpoint is set in once the server listens.
type Wired = (Arc<dyn Api>, Options, [u8; 32], Arc<OnceLock<String>>);

/// The service on `store`, its artifact store, sweep and metrics.
fn wire<S: Store>(
    config: &ServiceConfig,
    data_dir: &Path,
    settings: &ServerSettings,
    store: S,
) -> Result<Wired, String> {
    let artifacts = Artifacts::open(data_dir, &settings.artifacts, settings.service_key_file.as_deref())?;
    // Client tokens are sealed at rest under a key derived from the service key.
    let service = Service::new(config, store)
        .and_then(|s| s.with_token_key(artifacts.token_key()))
        .map_err(|e| format!("cannot start the service: {e}"))?;
    let endpoint = Arc::new(OnceLock::new());
    let service = Arc::new(
        service
            .with_credential_issuer(artifacts.credentials())
            .with_artifact_locations(artifacts.locations())
            .with_endpoint(Arc::clone(&endpoint)),
    );
    let mut options = Options {
        // S3 requests (no X-Amz-Target) on the API port go to the artifact store.
        passthrough: Some(artifacts.passthrough(config, Arc::clone(&service))),
        ..Options::default()
    };
    let ticker = Arc::clone(&service);
    options.tick = Some(Arc::new(move |now| {
        // A failed sweep is retried at the next tick; `tick` logged why.
        let _ = ticker.tick(now);
    }));
    options.stats = Some(Arc::new(Stats(Arc::clone(&service))));
    let hooks = Arc::clone(&service);
    options.webhooks = Some(Arc::new(move |post, now| hooks.receive_webhook(&post, now)));
    Ok((service, options, artifacts.console_key(), endpoint))
}

/// `/metrics`' job gauges, read from the store at each scrape.
struct Stats<S: Store>(Arc<Service<S>>);

impl<S: Store> StatsSource for Stats<S> {
    fn stats(&self, _now: SystemTime) -> DomainStats {
        let jobs_by_status = self
            .0
            .job_counts()
            .map(|c| c.into_iter().map(|(status, n)| ("all".to_owned(), status.as_str().to_owned(), n)).collect())
            .unwrap_or_default();
        let queue_depth = self.0.queue_depths().unwrap_or_default();
        DomainStats { jobs_by_status, queue_depth }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn run(a: &[&str]) -> ServeArgs {
        parse_args(&args(a)).unwrap().expect("not help")
    }

    #[test]
    fn parses_flags_and_defaults() {
        let a = run(&["--data-dir", "d"]);
        assert_eq!(a.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(a.data_dir, PathBuf::from("d"));
        assert_eq!(a.console, None);
        let a = run(&["--config", "c.toml", "--listen=0.0.0.0:80", "--data-dir", "d", "--log-format", "json"]);
        assert_eq!(a.config, Some(PathBuf::from("c.toml")));
        assert_eq!(a.listen.port(), 80);
        assert_eq!(a.log_format, Some(LogFormat::Json));
        assert_eq!(run(&["--console", "127.0.0.1:7701", "--data-dir", "d"]).console.map(|c| c.port()), Some(7701));
        assert_eq!(a.store, None);
        assert_eq!(run(&["--store", "sqlite"]).store, Some(None));
        let url = "postgres://cpjobs@127.0.0.1:5432/cpjobs";
        assert_eq!(run(&["--store", url]).store, Some(Some(url.to_owned())));
        assert_eq!(a.service_key_file, None);
        let shared = run(&["--service-key-file", "/etc/cpjobs/service.key"]).service_key_file;
        assert_eq!(shared, Some(PathBuf::from("/etc/cpjobs/service.key")));
        assert_eq!(a.public_url, None);
        let a = run(&["--public-url", "https://ci.example.com:8443/", "--data-dir", "d"]);
        assert_eq!(a.public_url.as_deref(), Some("https://ci.example.com:8443"));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        let err = |a: &[&str]| parse_args(&args(a)).unwrap_err();
        assert!(err(&["--listen", "nowhere"]).contains("not an address"));
        assert!(err(&["--console", "nowhere"]).contains("not an address"));
        assert_eq!(err(&["--bogus"]), "invalid option '--bogus'");
        assert_eq!(err(&["--config"]), "missing argument for option '--config'");
        assert!(err(&["--data-dir", "d", "extra"]).contains("unexpected argument \"extra\""));
        assert!(err(&["--log-format", "xml"]).contains("text or json"));
        for bad in ["ftp://x", "http://", "https://h/path", "h:80", "http://h?q"] {
            assert!(err(&["--public-url", bad]).contains("is not a URL"), "{bad}");
        }
        let e = err(&["--store", "mysql://u:secret@h/db"]);
        assert!(e.starts_with("--store") && e.contains("postgres://USER@HOST") && !e.contains("secret"), "{e}");
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
        assert_eq!(parse_args(&args(&["-h"])).unwrap(), None);
    }
}
