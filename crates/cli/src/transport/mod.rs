//! Sending one operation the way botocore's client does: endpoint, AWS JSON
//! 1.1 headers, SigV4, `amz-sdk-*` retry headers, legacy/standard retries,
//! and every failure turned into AWS CLI's message and exit code (255).
//!
//! Invariants:
//! - the request a server sees equals AWS CLI's, header for header (except
//!   User-Agent, see [`USER_AGENT`], and transport headers such as `accept`);
//! - each check fails at the moment AWS CLI's fails, so when several things
//!   are wrong the user sees the same first error: [`check_global_args`]
//!   right after the global options, then [`Client::new`] (region format,
//!   credentials, missing region, retry settings, timeouts, endpoint), then
//!   [`Client::call`] (missing credentials, port, scheme, network);
//! - one invocation id per call, reused on every retry.
//!
//! Where AWS CLI prints a Python artefact, we print our own clear text instead:
//! - `--no-verify-ssl` on https: urllib3's `InsecureRequestWarning` line without
//!   its `/path/urllib3/connectionpool.py:NNNN:` prefix and `warnings.warn(` line;
//! - TLS failures: rustls is not OpenSSL, so the common cases are given OpenSSL's
//!   words (`[SSL: WRONG_VERSION_NUMBER] ...`, `certificate verify failed:
//!   self-signed certificate`, urllib3's hostname mismatch); rarer ones read
//!   `[SSL] <rustls error>`;
//! - the `--debug` request/response lines are shorter than botocore's.
//!
//! Known gaps: SSO profiles (refused with a message), EC2 instance metadata
//! credentials (never queried), the adaptive retry mode's rate limiter (single calls never
//! reach it), and `aws-sigv4` re-encoding an `--endpoint-url` query where botocore
//! signs it verbatim (they differ only for `+` or unusual escapes).

pub mod endpoint;
pub mod retry;
pub mod sign;
pub mod sts;
pub mod tls;

use std::io::Read;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::args::GlobalArgs;
use crate::config::credentials::{CredentialSource, no_credentials_error};
use crate::config::{Credentials, Session, no_region_error};
use crate::debug;
use crate::error::CliError;
use endpoint::Target;
use retry::{Decision, Outcome, RetryConfig};

/// The User-Agent we send. Choice: our own identity rather than AWS CLI's
/// string. Nothing in CodePipeline (or our server) depends on it, the
/// conformance corpus ignores it, and claiming to be `aws-cli/1.45.11` would
/// mislead anyone reading server logs.
pub const USER_AGENT: &str = concat!("cpjobs/", env!("CARGO_PKG_VERSION"), " (aws-cli compatible)");

/// botocore's default connect and read timeout, in seconds.
const DEFAULT_TIMEOUT: i64 = 60;

/// An HTTP response (2xx when returned by [`Client::call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in received order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The timeouts after AWS CLI's `int()` (None = no timeout, from `0`), before the `<= 0` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `--cli-read-timeout`.
    pub read: Option<i64>,
    /// `--cli-connect-timeout`.
    pub connect: Option<i64>,
}

/// What AWS CLI checks right after parsing the global options (`top-level-args-parsed`):
/// `--endpoint-url` has a scheme, then both timeouts go through `int()`.
/// The driver should call this before parsing the operation's own arguments;
/// [`Client::new`] repeats it, so skipping it only changes which error comes first.
pub fn check_global_args(globals: &GlobalArgs) -> Result<Timeouts, CliError> {
    if let Some(url) = &globals.endpoint_url {
        endpoint::check_endpoint_arg(url)?;
    }
    let conv = |raw: &Option<String>| -> Result<Option<i64>, CliError> {
        let v = match raw {
            Some(r) => retry::py_int(r)?,
            None => DEFAULT_TIMEOUT,
        };
        Ok(if v == 0 { None } else { Some(v) })
    };
    let read = conv(&globals.cli_read_timeout)?;
    let connect = conv(&globals.cli_connect_timeout)?;
    Ok(Timeouts { read, connect })
}

/// botocore's `validate_region_name`: a host label.
fn check_region_format(region: &str) -> Result<(), CliError> {
    let ok = region.len() <= 63
        && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-')
        && (region.is_empty() || !region.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(CliError::general(format!("Provided region_name '{region}' doesn't match a supported format.")))
    }
}

/// urllib3's timeout validation message.
fn check_positive(kind: &str, v: Option<i64>) -> Result<Option<Duration>, CliError> {
    match v {
        None => Ok(None),
        Some(v) if v <= 0 => Err(CliError::general(format!(
            "Attempted to set {kind} timeout to {v}, but the timeout cannot be set to a value less than or equal to 0."
        ))),
        Some(v) => Ok(Some(Duration::from_secs(v as u64))),
    }
}

fn truthy(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}

/// The endpoint botocore would use for `service_id` when `--endpoint-url` is not given:
/// `AWS_ENDPOINT_URL_<SERVICE>` > `services` section > `AWS_ENDPOINT_URL` > profile `endpoint_url`,
/// all skipped when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile setting) is true.
pub fn configured_endpoint(session: &Session, service_id: &str) -> Option<String> {
    let env = session.env();
    let ignore = env
        .get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .map(str::to_owned)
        .or_else(|| session.scoped_str("ignore_configured_endpoint_urls").map(str::to_owned));
    if ignore.as_deref().is_some_and(truthy) {
        return None;
    }
    let env_name = service_id.replace(' ', "_").to_ascii_uppercase();
    if let Some(v) = env.get(&format!("AWS_ENDPOINT_URL_{env_name}")) {
        return Some(v.to_owned());
    }
    let snake = service_id.replace(' ', "_").to_ascii_lowercase();
    if let Some(services) = session.scoped_str("services")
        && let Some(section) = session.config_section(&format!("services {services}"))
        && let Some(crate::config::ini::IniValue::Nested(kv)) = crate::config::ini::get(section, &snake)
        && let Some((_, v)) = kv.iter().find(|(k, _)| k == "endpoint_url")
    {
        return Some(v.clone());
    }
    if let Some(v) = env.get("AWS_ENDPOINT_URL") {
        return Some(v.to_owned());
    }
    session.scoped_str("endpoint_url").map(str::to_owned)
}

/// The wire protocol of the service a client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.1 with this `X-Amz-Target` prefix (`CodePipeline_20150709`).
    Json {
        /// Target prefix.
        target_prefix: String,
    },
    /// AWS Query (form body, XML answers), e.g. STS.
    Query,
}

/// Which service a client is for.
struct ServiceSpec<'a> {
    endpoint_prefix: &'a str,
    service_id: &'a str,
    protocol: Protocol,
}

/// Python's `urllib.request.getproxies_environment()`: `<scheme>_proxy` variables in any
/// case, the lowercase spelling winning; an empty lowercase one removes the entry.
fn environ_proxies(env: &crate::config::Env) -> Vec<(String, String)> {
    let mut proxies: Vec<(String, String)> = Vec::new();
    let mut set = |k: String, v: Option<&str>| {
        proxies.retain(|(pk, _)| *pk != k);
        if let Some(v) = v {
            proxies.push((k, v.to_owned()));
        }
    };
    for (name, value) in env.vars() {
        let lower = name.to_lowercase();
        if !value.is_empty() && lower.ends_with("_proxy") {
            set(lower[..lower.len() - 6].to_owned(), Some(value));
        }
    }
    if env.get("REQUEST_METHOD").is_some() {
        set("http".to_owned(), None);
    }
    for (name, value) in env.vars() {
        if let Some(base) = name.strip_suffix("_proxy") {
            let base = base.to_lowercase();
            set(base, if value.is_empty() { None } else { Some(value) });
        }
    }
    proxies
}

/// botocore's proxy choice for `url`: none when `no_proxy` matches the host
/// (`proxy_bypass_environment`), else `scheme://host`, `scheme`, `all://host`, `all`.
pub fn select_proxy(env: &crate::config::Env, target: &Target) -> Option<String> {
    let proxies = environ_proxies(env);
    let get = |k: &str| proxies.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone());
    let netloc = target.parts.netloc.to_lowercase();
    let hostonly = netloc
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(netloc.as_str(), |(h, _)| h);
    if let Some(no) = get("no") {
        if no == "*" {
            return None;
        }
        for name in no.split(',') {
            let name = name.trim().trim_start_matches('.').to_lowercase();
            if name.is_empty() {
                continue;
            }
            let dotted = format!(".{name}");
            if hostonly == name || netloc == name || hostonly.ends_with(&dotted) || netloc.ends_with(&dotted) {
                return None;
            }
        }
    }
    let scheme = &target.parts.scheme;
    let host = target.parts.hostname().unwrap_or_default();
    [format!("{scheme}://{host}"), scheme.clone(), format!("all://{host}"), "all".to_owned()]
        .iter()
        .find_map(|k| get(k))
}

/// How to sleep between attempts (tests inject a recorder).
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// A client for one service, created like botocore's `create_client`.
pub struct Client {
    target: Target,
    region: String,
    signing_name: String,
    protocol: Protocol,
    /// What to sign with; an assume-role is carried out at the first signature, as botocore does.
    credentials: Option<CredentialSource>,
    resolved: OnceLock<Result<Credentials, CliError>>,
    /// Kept for the STS client an assume-role needs.
    session: Session,
    globals: GlobalArgs,
    sign: bool,
    retry: RetryConfig,
    read_timeout: Option<Duration>,
    agent: ureq::Agent,
    /// A TLS setup failure AWS CLI only reports when it connects (e.g. a missing --ca-bundle).
    tls_error: Option<String>,
    /// `--no-verify-ssl` (warned about for every https host).
    no_verify_ssl: bool,
    sleeper: Sleeper,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.target.url)
            .field("region", &self.region)
            .field("sign", &self.sign)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A uniform random number in [0, 1) (Python's `random.random()` for the back-off).
fn random_unit() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8])) >> 11;
    n as f64 / (1u64 << 53) as f64
}

impl Client {
    /// What botocore's create_client does, in its order (see the module doc).
    pub fn new(session: &Session, globals: &GlobalArgs) -> Result<Client, CliError> {
        let model = cpjobs_model::ServiceModel::codepipeline();
        Client::for_service(
            session,
            globals,
            &model.metadata.endpoint_prefix,
            &model.metadata.target_prefix,
            &model.metadata.service_id,
        )
    }

    /// [`Client::new`] for any AWS JSON 1.1 service.
    pub fn for_service(
        session: &Session,
        globals: &GlobalArgs,
        endpoint_prefix: &str,
        target_prefix: &str,
        service_id: &str,
    ) -> Result<Client, CliError> {
        let spec = ServiceSpec {
            endpoint_prefix,
            service_id,
            protocol: Protocol::Json { target_prefix: target_prefix.to_owned() },
        };
        check_global_args(globals)?;
        let region = session.region_opt();
        if let Some(r) = &region {
            check_region_format(r)?;
        }
        let credentials = if globals.no_sign_request { None } else { session.credential_source()? };
        Client::build(
            session,
            globals,
            &spec,
            region,
            globals.endpoint_url.clone(),
            credentials,
            !globals.no_sign_request,
            globals.no_verify_ssl,
        )
    }

    /// The STS client botocore creates for an assume-role: the session's
    /// settings, but neither `--endpoint-url` nor `--no-verify-ssl` apply to it.
    /// `credentials` None sends unsigned requests (AssumeRoleWithWebIdentity).
    pub fn sts(
        session: &Session,
        globals: &GlobalArgs,
        region: Option<&str>,
        credentials: Option<Credentials>,
    ) -> Result<Client, CliError> {
        let spec = ServiceSpec { endpoint_prefix: "sts", service_id: "STS", protocol: Protocol::Query };
        // With no region botocore uses the global endpoint, signed for us-east-1.
        let (region, endpoint) = match region.filter(|r| !r.is_empty()) {
            Some(r) => (r.to_owned(), None),
            None => ("us-east-1".to_owned(), Some("https://sts.amazonaws.com".to_owned())),
        };
        let endpoint = configured_endpoint(session, "STS").or(endpoint);
        Client::build(
            session,
            globals,
            &spec,
            Some(region),
            endpoint,
            credentials.clone().map(CredentialSource::Static),
            credentials.is_some(),
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        session: &Session,
        globals: &GlobalArgs,
        spec: &ServiceSpec<'_>,
        region: Option<String>,
        endpoint_override: Option<String>,
        credentials: Option<CredentialSource>,
        sign: bool,
        no_verify_ssl: bool,
    ) -> Result<Client, CliError> {
        let timeouts = check_global_args(globals)?;
        let endpoint_url = endpoint_override.or_else(|| configured_endpoint(session, spec.service_id));
        // An empty region is a region for botocore: it signs with an empty scope, and
        // without --endpoint-url builds `https://codepipeline..amazonaws.com` (refused below).
        let Some(region) = region else { return Err(no_region_error()) };
        let retry = RetryConfig::resolve(
            session.env_or_profile("AWS_MAX_ATTEMPTS", "max_attempts").as_deref(),
            session.env_or_profile("AWS_RETRY_MODE", "retry_mode").as_deref(),
        )?;
        // urllib3 validates connect before read.
        let connect_timeout = check_positive("connect", timeouts.connect)?;
        let read_timeout = check_positive("read", timeouts.read)?;
        let endpoint_url = endpoint_url.unwrap_or_else(|| endpoint::default_endpoint(spec.endpoint_prefix, &region));
        endpoint::check_valid_endpoint(&endpoint_url)?;
        let target = Target::new(&endpoint_url);

        let mut tls_error = None;
        let mut verify = tls::Verify::DefaultRoots;
        if no_verify_ssl {
            verify = tls::Verify::Off;
        } else if target.parts.scheme == "https" {
            let bundle = globals.ca_bundle.clone().or_else(|| session.env_or_profile("AWS_CA_BUNDLE", "ca_bundle"));
            if let Some(path) = bundle {
                match load_ca_bundle(&path) {
                    Ok(certs) => verify = tls::Verify::Bundle(certs),
                    Err(e) => tls_error = Some(e),
                }
            }
        }
        // The proxy is chosen here, by botocore's rules, not by ureq's own environment lookup.
        let proxy = match select_proxy(session.env(), &target) {
            Some(p) => Some(ureq::Proxy::new(&p).map_err(|e| CliError::general(format!("Invalid proxy {p}: {e}")))?),
            None => None,
        };
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .timeout_connect(connect_timeout)
            .timeout_recv_response(read_timeout)
            .timeout_recv_body(read_timeout)
            .build();
        // ureq's own chain with our TLS step (see `tls`): proxy CONNECT, TCP, TLS.
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
        let tls_connector = tls::TlsConnector::new(&verify);
        let connector = ().chain(ConnectProxyConnector::default()).chain(TcpConnector::default()).chain(tls_connector);
        let agent = ureq::Agent::with_parts(config, connector, ureq::unversioned::resolver::DefaultResolver::default());
        Ok(Client {
            target,
            region,
            signing_name: spec.endpoint_prefix.to_owned(),
            protocol: spec.protocol.clone(),
            credentials,
            resolved: OnceLock::new(),
            session: session.clone(),
            globals: globals.clone(),
            sign,
            retry,
            read_timeout,
            agent,
            tls_error,
            no_verify_ssl,
            sleeper: Arc::new(std::thread::sleep),
        })
    }

    /// Replaces how the client sleeps between attempts (tests record instead of sleeping).
    pub fn set_sleeper(&mut self, sleeper: Sleeper) {
        self.sleeper = sleeper;
    }

    /// The URL requests go to, as printed in connection errors.
    pub fn url(&self) -> &str {
        &self.target.url
    }

    /// The retry settings in force.
    pub fn retry_config(&self) -> RetryConfig {
        self.retry
    }

    /// POST `body` for `op` with AWS CLI's headers, signature and retries; the 2xx response or AWS CLI's error.
    pub fn call(&self, op: &cpjobs_model::Operation, body: &str) -> Result<HttpResponse, CliError> {
        self.invoke(&op.name, body)
    }

    /// Sends operation `op_name` with an already serialized body (JSON, or the form body for Query).
    pub fn invoke(&self, op_name: &str, body: &str) -> Result<HttpResponse, CliError> {
        let invocation_id = uuid::Uuid::new_v4().to_string();
        let mut ttl: Option<String> = None;
        let mut max_header: Option<u32> = None;
        let mut attempt: u32 = 1;
        loop {
            let mut sdk_request = Vec::new();
            if let Some(t) = &ttl {
                sdk_request.push(format!("ttl={t}"));
            }
            sdk_request.push(format!("attempt={attempt}"));
            if let Some(m) = max_header {
                sdk_request.push(format!("max={m}"));
            }
            let headers = self.request_headers(op_name, body, &invocation_id, &sdk_request.join("; "))?;
            let result = self.send(&headers, body);
            let received = SystemTime::now();
            // The retry handler records `max` the first time it runs, i.e. from the second attempt on.
            max_header = Some(self.retry.max_attempts);
            match result {
                Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
                Ok(resp) => {
                    if let (Some(date), Some(rt)) = (resp.header("date"), self.read_timeout)
                        && let Some(t) = compute_ttl(date, received, rt)
                    {
                        ttl = Some(t);
                    }
                    let err = if resp.status == 300 {
                        // botocore parses 300 as a success body, then raises with no Error in it.
                        retry::ServiceError { code: "Unknown".into(), message: "Unknown".into() }
                    } else {
                        match self.protocol {
                            Protocol::Json { .. } => {
                                retry::parse_error(resp.status, &resp.headers, &resp.body).map_err(CliError::general)?
                            }
                            Protocol::Query => sts::parse_query_error(resp.status, &resp.body),
                        }
                    };
                    match self.retry.decide(attempt, Outcome::Response { status: resp.status, code: &err.code }) {
                        Decision::Retry { max_delay } => self.pause(max_delay),
                        Decision::Stop { max_reached } => {
                            let retries = max_reached.then_some(attempt - 1);
                            return Err(CliError::general(retry::client_error_message(&err, op_name, retries)));
                        }
                    }
                }
                Err(SendError { message, retryable }) => {
                    let outcome = if retryable { Outcome::ConnectionError } else { Outcome::OtherError };
                    match self.retry.decide(attempt, outcome) {
                        Decision::Retry { max_delay } => self.pause(max_delay),
                        Decision::Stop { .. } => return Err(CliError::general(message)),
                    }
                }
            }
            attempt += 1;
        }
    }

    fn pause(&self, max_delay: f64) {
        let secs = random_unit() * max_delay;
        debug::log("botocore.retryhandler", format!("Retry needed, retrying request after delay of: {secs}"));
        (self.sleeper)(Duration::from_secs_f64(secs));
    }

    /// The credentials to sign with, assuming a role the first time it is needed.
    fn signing_credentials(&self) -> Result<Credentials, CliError> {
        match &self.credentials {
            None => Err(no_credentials_error()),
            Some(CredentialSource::Static(c)) => Ok(c.clone()),
            Some(src) => self
                .resolved
                .get_or_init(|| sts::resolve(&self.session, &self.globals, Some(&self.region), src))
                .clone(),
        }
    }

    /// The headers of one attempt, in AWS CLI's order (Content-Length is added by the HTTP client).
    fn request_headers(
        &self,
        op_name: &str,
        body: &str,
        invocation_id: &str,
        sdk_request: &str,
    ) -> Result<Vec<(String, String)>, CliError> {
        let (content_type, amz_target) = match &self.protocol {
            Protocol::Json { target_prefix } => {
                ("application/x-amz-json-1.1", Some(format!("{target_prefix}.{op_name}")))
            }
            Protocol::Query => ("application/x-www-form-urlencoded; charset=utf-8", None),
        };
        let mut signed: Vec<(String, String)> = Vec::new();
        if self.sign {
            let creds = self.signing_credentials()?;
            let host = self.target.host_header().map_err(CliError::general)?;
            let mut to_sign = vec![("content-type", content_type)];
            if let Some(t) = &amz_target {
                to_sign.push(("x-amz-target", t.as_str()));
            }
            signed = sign::sign(&sign::SignInput {
                url: &self.target.url,
                host: &host,
                headers: &to_sign,
                body: body.as_bytes(),
                region: &self.region,
                service: &self.signing_name,
                credentials: &creds,
                time: SystemTime::now(),
            })
            .map_err(CliError::general)?;
        }
        let host = match self.target.host_header() {
            Ok(h) => h,
            // Unsigned: urllib3 fails to parse the URL instead.
            Err(_) => {
                return Err(CliError::general(format!(
                    "An HTTP Client raised an unhandled exception: Failed to parse: {}",
                    self.target.url
                )));
            }
        };
        let mut headers = vec![("Host".to_owned(), host), ("Accept-Encoding".to_owned(), "identity".to_owned())];
        if let Some(t) = amz_target {
            headers.push(("X-Amz-Target".to_owned(), t));
        }
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
        headers.push(("User-Agent".to_owned(), USER_AGENT.to_owned()));
        headers.extend(signed);
        headers.push(("amz-sdk-invocation-id".to_owned(), invocation_id.to_owned()));
        headers.push(("amz-sdk-request".to_owned(), sdk_request.to_owned()));
        Ok(headers)
    }

    fn send(&self, headers: &[(String, String)], body: &str) -> Result<HttpResponse, SendError> {
        let url = &self.target.url;
        let scheme = self.target.parts.scheme.as_str();
        if scheme != "http" && scheme != "https" {
            return Err(SendError {
                message: format!("An HTTP Client raised an unhandled exception: Not supported URL scheme {scheme}"),
                retryable: false,
            });
        }
        if scheme == "https"
            && let Some(e) = &self.tls_error
        {
            return Err(SendError { message: format!("SSL validation failed for {url} {e}"), retryable: true });
        }
        if scheme == "https" && self.no_verify_ssl {
            warn_insecure(&self.target.parts.hostname().unwrap_or_default());
        }
        debug::log(
            "botocore.endpoint",
            format!(
                "Sending http request: <AWSPreparedRequest stream_output=False, method=POST, url={url}, headers={}>",
                debug_headers(headers)
            ),
        );
        // The wire URL carries no fragment; `Target::url` keeps it only for messages, like botocore.
        let wire = format!("{}://{}{}", scheme, self.target.parts.netloc, self.target.path_and_query());
        let mut req = self.agent.post(&wire);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req.send(body.as_bytes()).map_err(|e| classify(&e, url))?;
        let status = resp.status().as_u16();
        let resp_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut bytes = Vec::new();
        resp.body_mut().as_reader().read_to_end(&mut bytes).map_err(|e| classify_io(&e, url))?;
        debug::log("botocore.parsers", format!("Response headers: {}", debug_headers(&resp_headers)));
        debug::log("botocore.parsers", format!("Response body:\n{}", String::from_utf8_lossy(&bytes)));
        Ok(HttpResponse { status, headers: resp_headers, body: bytes })
    }
}

/// urllib3's `InsecureRequestWarning`, shown like Python's default warning filter:
/// once per process for each host. AWS CLI prefixes it with urllib3's source
/// location and follows it with the source line (`warnings.warn(`); those
/// Python artefacts are left out.
fn warn_insecure(host: &str) {
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    if shown.iter().any(|h| h == host) {
        return;
    }
    shown.push(host.to_owned());
    eprintln!(
        "InsecureRequestWarning: Unverified HTTPS request is being made to host '{host}'. Adding certificate verification is strongly advised. See: https://urllib3.readthedocs.io/en/latest/advanced-usage.html#tls-warnings"
    );
}

fn debug_headers(headers: &[(String, String)]) -> String {
    let items: Vec<String> = headers
        .iter()
        .map(|(k, v)| {
            format!(
                "'{k}': {}",
                if k.eq_ignore_ascii_case("authorization") { "'<redacted>'".to_owned() } else { format!("'{v}'") }
            )
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// A failed attempt that produced no HTTP response.
#[derive(Debug)]
struct SendError {
    message: String,
    /// botocore's ConnectionError family (retried) vs any other HTTP client error.
    retryable: bool,
}

fn could_not_connect(url: &str) -> SendError {
    SendError { message: format!("Could not connect to the endpoint URL: \"{url}\""), retryable: true }
}

fn closed(url: &str) -> SendError {
    SendError {
        message: format!("Connection was closed before we received a valid response from endpoint URL: \"{url}\"."),
        retryable: true,
    }
}

fn read_timeout(url: &str) -> SendError {
    SendError { message: format!("Read timeout on endpoint URL: \"{url}\""), retryable: true }
}

/// ureq's errors mapped onto botocore's exceptions.
fn classify(e: &ureq::Error, url: &str) -> SendError {
    use ureq::Error as E;
    match e {
        E::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            SendError { message: format!("Connect timeout on endpoint URL: \"{url}\""), retryable: true }
        }
        E::Timeout(_) => read_timeout(url),
        E::HostNotFound | E::ConnectionFailed => could_not_connect(url),
        E::Io(io) => classify_io(io, url),
        E::Rustls(r) => {
            SendError { message: format!("SSL validation failed for {url} {}", openssl_like(r)), retryable: true }
        }
        E::Tls(m) => SendError { message: format!("SSL validation failed for {url} {m}"), retryable: true },
        // A malformed or missing status line: the server hung up or spoke something else.
        E::Protocol(_) => closed(url),
        other => {
            SendError { message: format!("An HTTP Client raised an unhandled exception: {other}"), retryable: false }
        }
    }
}

fn classify_io(io: &std::io::Error, url: &str) -> SendError {
    use std::io::ErrorKind as K;
    match io.kind() {
        K::ConnectionRefused | K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable => {
            could_not_connect(url)
        }
        K::TimedOut | K::WouldBlock => read_timeout(url),
        _ => {
            // rustls failures surface as io errors wrapping rustls::Error.
            if let Some(r) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                return SendError {
                    message: format!("SSL validation failed for {url} {}", openssl_like(r)),
                    retryable: true,
                };
            }
            if let Some(ureq::Error::Timeout(_)) = io.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()) {
                return read_timeout(url);
            }
            closed(url)
        }
    }
}

/// rustls errors phrased like Python's OpenSSL messages for the common cases
/// (the exact OpenSSL text cannot be reproduced by another TLS stack).
fn openssl_like(e: &rustls::Error) -> String {
    use rustls::Error as R;
    match e {
        // Our verifier already words its failures like OpenSSL.
        R::General(m) => m.clone(),
        R::InvalidMessage(_) | R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => {
            "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)".to_owned()
        }
        R::InvalidCertificate(c) => {
            let why = match c {
                rustls::CertificateError::UnknownIssuer => "self-signed certificate",
                rustls::CertificateError::Expired => "certificate has expired",
                rustls::CertificateError::NotValidForName => {
                    "Hostname mismatch, certificate is not valid for this host"
                }
                _ => "unable to get local issuer certificate",
            };
            format!("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {why} (_ssl.c:1006)")
        }
        other => format!("[SSL] {other}"),
    }
}

/// Loads a PEM bundle; Err is the Python-side message AWS CLI shows on first use.
fn load_ca_bundle(path: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "[Errno 2] No such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "[Errno 13] Permission denied".to_owned(),
        _ => format!("{e}"),
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
            certs.push(rustls::pki_types::CertificateDer::from(c.der().to_vec()));
        }
    }
    if certs.is_empty() {
        return Err("[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (_ssl.c:4154)".to_owned());
    }
    Ok(certs)
}

/// botocore's `_calculate_ttl`: now + read timeout + (server Date - time the response arrived).
fn compute_ttl(date: &str, received: SystemTime, read_timeout: Duration) -> Option<String> {
    let server = parse_http_date(date)?;
    let to_f = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let skew = server as f64 - to_f(received);
    let ttl = to_f(SystemTime::now()) + read_timeout.as_secs_f64() + skew;
    Some(sign::amz_date(ttl.floor() as i64))
}

/// `datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z")` as Unix seconds (%Z accepts GMT/UTC).
fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [wd, day, mon, year, time, zone] = parts.as_slice() else { return None };
    if !wd.ends_with(',') || !matches!(*zone, "GMT" | "UTC") {
        return None;
    }
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))? as i64 + 1;
    let d: i64 = day.parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<Vec<_>>>()?;
    let [hh, mm, ss] = hms.as_slice() else { return None };
    // Days from civil (Howard Hinnant).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_arg_checks() {
        let g = |read: &str| GlobalArgs { cli_read_timeout: Some(read.into()), ..GlobalArgs::default() };
        assert_eq!(
            check_global_args(&g("abc")).unwrap_err().stderr,
            "\ninvalid literal for int() with base 10: 'abc'\n"
        );
        assert_eq!(check_global_args(&g(" 3")).unwrap().read, Some(3));
        assert_eq!(check_global_args(&g("0")).unwrap().read, None);
        assert_eq!(check_global_args(&GlobalArgs::default()).unwrap(), Timeouts { read: Some(60), connect: Some(60) });
        let c = GlobalArgs { cli_connect_timeout: Some("1.5".into()), ..GlobalArgs::default() };
        assert_eq!(check_global_args(&c).unwrap_err().stderr, "\ninvalid literal for int() with base 10: '1.5'\n");
        let e = GlobalArgs {
            endpoint_url: Some("127.0.0.1:1".into()),
            cli_read_timeout: Some("x".into()),
            ..GlobalArgs::default()
        };
        assert!(check_global_args(&e).unwrap_err().stderr.contains("scheme is missing"), "endpoint is checked first");
        assert_eq!(
            check_positive("read", Some(-1)).unwrap_err().stderr,
            "\nAttempted to set read timeout to -1, but the timeout cannot be set to a value less than or equal to 0.\n"
        );
    }

    #[test]
    fn region_format() {
        assert!(check_region_format("us-east-1").is_ok());
        assert!(check_region_format("").is_ok());
        assert_eq!(
            check_region_format("us east").unwrap_err().stderr,
            "\nProvided region_name 'us east' doesn't match a supported format.\n"
        );
        assert!(check_region_format("123").is_err());
        assert!(check_region_format("-a").is_err());
    }

    #[test]
    fn http_dates_and_ttl() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10));
        assert_eq!(parse_http_date("Sun, 29 Nov 2026 17:54:27 GMT"), Some(1_795_974_867));
        assert_eq!(parse_http_date("garbage"), None);
        // A server clock 100 s ahead moves the ttl 100 s later.
        let now = SystemTime::now();
        let now_s = now.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
        let ahead = httpdate(now_s + 100);
        let ttl = compute_ttl(&ahead, now, Duration::from_secs(60)).unwrap();
        let expected = [sign::amz_date(now_s + 159), sign::amz_date(now_s + 160), sign::amz_date(now_s + 161)];
        assert!(expected.contains(&ttl), "{ttl} not in {expected:?}");
    }

    fn httpdate(t: i64) -> String {
        let (y, m, d) = debug::civil_from_days(t.div_euclid(86_400));
        let r = t.rem_euclid(86_400);
        const M: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        format!("Mon, {d:02} {} {y} {:02}:{:02}:{:02} GMT", M[m as usize - 1], r / 3600, r % 3600 / 60, r % 60)
    }

    #[test]
    fn proxies_follow_python_rules() {
        use crate::config::Env;
        let t = Target::new("http://127.0.0.1:18765/");
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(select_proxy(&env(&[]), &t), None);
        assert_eq!(select_proxy(&env(&[("HTTPS_PROXY", "http://p:1")]), &t), None, "https proxy is not used for http");
        assert_eq!(
            select_proxy(&env(&[("HTTP_PROXY", "http://P:1"), ("http_proxy", "http://l:1")]), &t).as_deref(),
            Some("http://l:1")
        );
        assert_eq!(select_proxy(&env(&[("ALL_PROXY", "http://a:1")]), &t).as_deref(), Some("http://a:1"));
        assert_eq!(select_proxy(&env(&[("http_proxy", "http://p:1"), ("NO_PROXY", "localhost, 127.0.0.1")]), &t), None);
        assert_eq!(select_proxy(&env(&[("http_proxy", "http://p:1"), ("no_proxy", "*")]), &t), None);
        let d = Target::new("https://codepipeline.eu-west-1.amazonaws.com");
        assert_eq!(select_proxy(&env(&[("https_proxy", "http://p:1"), ("no_proxy", ".amazonaws.com")]), &d), None);
        assert_eq!(
            select_proxy(&env(&[("https_proxy", "http://p:1"), ("no_proxy", "example.com")]), &d).as_deref(),
            Some("http://p:1")
        );
    }

    #[test]
    fn random_is_unit() {
        for _ in 0..100 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r));
        }
    }
}
