//! A real headless Chromium for the console tests: Debian's `chromium`,
//! driven through `chromedriver` (started here on a free port, in a process
//! group of its own that is killed when the test ends, browser included)
//! with `fantoccini` over plain HTTP on 127.0.0.1.
//!
//! Without the two programs a test is skipped, except under CI (`CI` or
//! `CPJOBS_REQUIRE_BROWSER` set, as `scripts/test.sh` does), where it fails:
//! `scripts/setup-test-deps.sh` installs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::TempDir;

/// How long a page may take to show what a test waits for (the machine is shared).
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Whether a missing browser must fail the test rather than skip it.
fn required() -> bool {
    ["CI", "CPJOBS_REQUIRE_BROWSER"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty() && x != "0"))
}

/// `chromedriver` in its own process group, killed (with the browsers it
/// started) when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pgid) = i32::try_from(self.0.id()).ok().and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.0.wait();
    }
}

/// A browser session; close it with [`Browser::close`].
pub(crate) struct Browser {
    /// The WebDriver client.
    pub(crate) client: Client,
    _driver: Driver,
    _profile: TempDir,
}

impl Browser {
    /// A fresh headless Chromium (new profile), or `None` when it is not
    /// installed and not required.
    pub(crate) async fn start(tag: &str) -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (which("chromium"), which("chromedriver")) else {
            assert!(!required(), "chromium and chromedriver are required here: run scripts/setup-test-deps.sh");
            eprintln!("skipped: chromium or chromedriver is not installed (scripts/setup-test-deps.sh installs them)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let profile = TempDir::new(&format!("chromium-{tag}"));
        let child = {
            use std::os::unix::process::CommandExt as _;
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("chromedriver starts")
        };
        let driver = Driver(child);
        let url = format!("http://127.0.0.1:{port}");
        wait_listening(port);
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            },
        });
        let caps = caps.as_object().expect("an object").clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector).capabilities(caps).connect(&url).await.expect("a browser session");
        Some(Browser { client, _driver: driver, _profile: profile })
    }

    /// Ends the session (the browser exits); the driver dies with `self`.
    pub(crate) async fn close(self) {
        let Browser { client, _driver, _profile } = self;
        let _ = client.close().await;
    }

    /// Opens `url`.
    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path of the current page.
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    /// The visible text of the first element `css` matches, once `ok` holds
    /// for it (it may appear and change without a reload); panics after
    /// [`PATIENCE`] with what the element last said.
    pub(crate) async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut last = String::from("(no such element)");
        while start.elapsed() < PATIENCE {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                // The live region may be swapped between finding and reading: read again next round.
                if let Ok(t) = e.text().await {
                    if ok(&t) {
                        return t;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{css} never showed what was expected; it last read {last:?}");
    }

    /// The body's text.
    pub(crate) async fn body(&self) -> String {
        self.client.find(Locator::Css("body")).await.expect("body").text().await.expect("text")
    }

    /// Types `text` into the field `css`.
    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        e.send_keys(text).await.expect("typed");
    }

    /// Clicks the element `css`.
    pub(crate) async fn click(&self, css: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        e.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Runs `script` in the page and answers its result.
    pub(crate) async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Saves a PNG of the viewport as `dir/name.png` when `CPJOBS_SCREENSHOTS`
    /// names a directory (relative ones from the repository's root).
    pub(crate) async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("CPJOBS_SCREENSHOTS").filter(|d| !d.is_empty()) else { return };
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir);
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }
}

/// Waits until something listens on `port` (chromedriver takes a moment).
fn wait_listening(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < PATIENCE, "chromedriver never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
