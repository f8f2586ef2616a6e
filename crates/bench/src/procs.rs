//! The servers under test, each in its own process: the real `cpjobs serve`
//! (a release binary) and this binary's own `hello` server. Both listen on
//! `127.0.0.1:0` and announce their port on the first line of stdout; both are
//! stopped with SIGTERM and waited for.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server process.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    /// The console's address, when it was asked for.
    pub(crate) console: Option<SocketAddr>,
    /// Kept open so the server's later writes to stdout do not fail.
    _stdout: BufReader<tokio::process::ChildStdout>,
}

impl Server {
    /// Starts `cpjobs serve` with `config` on `data_dir` (and `store`, and
    /// the service key file `key`, when given); its log goes to `log`.
    pub(crate) async fn cpjobs(
        bin: &Path,
        config: &Path,
        data_dir: &Path,
        log: &Path,
        store: Option<&str>,
        key: Option<&Path>,
    ) -> Result<Server, String> {
        let mut cmd = Command::new(bin);
        cmd.arg("serve").arg("--config").arg(config).arg("--data-dir").arg(data_dir).args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ]);
        if let Some(url) = store {
            cmd.args(["--store", url]);
        }
        if let Some(key) = key {
            cmd.arg("--service-key-file").arg(key);
        }
        Server::start(cmd, log).await
    }

    /// Starts `cpjobs serve` with `config` on `data_dir` and its console on
    /// `127.0.0.1:0` (announced on the second line of stdout).
    pub(crate) async fn cpjobs_with_console(
        bin: &Path,
        config: &Path,
        data_dir: &Path,
        log: &Path,
    ) -> Result<Server, String> {
        let mut cmd = Command::new(bin);
        cmd.arg("serve").arg("--config").arg(config).arg("--data-dir").arg(data_dir).args([
            "--listen",
            "127.0.0.1:0",
            "--console",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ]);
        let mut server = Server::start(cmd, log).await?;
        let mut line = String::new();
        tokio::time::timeout(std::time::Duration::from_secs(30), server._stdout.read_line(&mut line))
            .await
            .map_err(|_| "the server did not announce its console within 30 s".to_owned())?
            .map_err(|e| e.to_string())?;
        // "cpjobs serve: console on http://127.0.0.1:PORT/console/"
        server.console = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse::<SocketAddr>().ok());
        if server.console.is_none() {
            return Err(format!("unexpected second line from the server: {line:?}"));
        }
        Ok(server)
    }

    /// Starts this binary's hello-world server.
    pub(crate) async fn hello(log: &Path) -> Result<Server, String> {
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.args(["hello", "--listen", "127.0.0.1:0"]);
        Server::start(cmd, log).await
    }

    async fn start(mut cmd: Command, log: &Path) -> Result<Server, String> {
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        tokio::time::timeout(std::time::Duration::from_secs(30), stdout.read_line(&mut line))
            .await
            .map_err(|_| "the server did not announce itself within 30 s".to_owned())?
            .map_err(|e| e.to_string())?;
        // "cpjobs serve: listening on http://127.0.0.1:PORT (region ...)" or "listening on http://127.0.0.1:PORT"
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?;
        Ok(Server { child, addr, console: None, _stdout: stdout })
    }

    /// Stops the server with SIGTERM (a graceful stop) and waits for it.
    pub(crate) async fn stop(mut self) -> Result<(), String> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
        }
        let status = tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait())
            .await
            .map_err(|_| "the server did not stop within 30 s of SIGTERM".to_owned())?
            .map_err(|e| e.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("the server exited with {status}")) }
    }
}

/// `cpjobs-bench hello`: `POST /` answers a fixed AWS JSON body, the smallest
/// possible axum service, for reference.
pub(crate) fn hello(listen: &str) -> Result<(), String> {
    use axum::http::header;
    use axum::routing::post;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{addr}");
        let app = axum::Router::new()
            .route("/", post(|| async { ([(header::CONTENT_TYPE, "application/x-amz-json-1.1")], "{\"jobs\":[]}") }));
        let stop = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            term.recv().await;
        };
        axum::serve(listener, app).with_graceful_shutdown(stop).await.map_err(|e| e.to_string())
    })
}
