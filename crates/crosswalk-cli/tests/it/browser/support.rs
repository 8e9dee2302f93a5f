//! The browser-test harness: the real `crosswalk serve` on a free port over a store that real
//! commands filled ([`UiServer`], [`demo_site`]), and a real headless Chromium driven through
//! chromedriver over WebDriver ([`Browser`]), with a fresh profile per test.
//!
//! Chromium and chromedriver are Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them where missing). Without them a test says so on stderr and passes, except under
//! `CI=true`, where it fails: a browser test that cannot start its browser never passes
//! silently there.
//!
//! A new browser test: `let Some(browser) = Browser::start().await else { return };`, a site
//! from [`demo_site`] (or a [`UiServer`] over a store you filled), [`Browser::sign_in`], then
//! the page's own controls ([`Browser::click`], [`Browser::fill`]) and what a person would
//! read ([`Browser::text`], [`Browser::texts`]). End with [`Browser::close`].

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::util::Dir;

/// The flags every test browser starts with (besides its own profile directory): headless,
/// nothing fetched from the network on its own, no first-run dialogs.
pub(crate) const CHROMIUM_FLAGS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How long a page or an element may take to appear.
const PATIENCE: Duration = Duration::from_secs(20);

/// `crosswalk serve` on a free port of 127.0.0.1; killed when dropped.
pub(crate) struct UiServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(crate) base: String,
}

impl UiServer {
    /// Serves the store of `dir` (`extra` are more `serve` arguments).
    pub(crate) fn start(dir: &Dir, extra: &[&str]) -> UiServer {
        let mut child = dir
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start crosswalk serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address line");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        let server = UiServer {
            child,
            base: format!("http://{address}"),
        };
        assert!(!address.is_empty(), "no address in {line:?}");
        let deadline = Instant::now() + PATIENCE;
        while http_status(&address, "/health").is_none() {
            assert!(
                Instant::now() < deadline,
                "crosswalk serve never answered /health"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// A server some other command started (e.g. `crosswalk demo`), at `base`; killed when
    /// dropped like one this harness started.
    pub(crate) fn attach(child: Child, base: &str) -> UiServer {
        UiServer {
            child,
            base: base.to_string(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for UiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of a plain GET (no cookie), or `None` when nothing answers.
fn http_status(address: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // The status line only: chromedriver keeps the connection open after its answer.
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

/// The demo's store (`crosswalk demo`: scope `default`, job `demo`), a second scope
/// [`DemoSite::FOREIGN_SCOPE`], tokens, and the server over it.
pub(crate) struct DemoSite {
    pub(crate) server: UiServer,
    /// A reader token of scope `default`.
    pub(crate) reader: String,
    /// A token of the foreign scope only.
    pub(crate) foreign: String,
    pub(crate) admin: String,
    /// The store's folder, for commands a test runs beside the server (kept alive with it).
    #[allow(dead_code)]
    pub(crate) dir: Dir,
}

impl DemoSite {
    pub(crate) const FOREIGN_SCOPE: &'static str = "globex";
}

pub(crate) fn demo_site() -> DemoSite {
    let dir = Dir::new();
    dir.ok(&["demo", "--no-serve"]);
    dir.ok(&[
        "scope",
        "create",
        DemoSite::FOREIGN_SCOPE,
        "--source-label",
        "jira-server https://jira.globex.example",
        "--destination-label",
        "atlassian-cloud https://globex.atlassian.net",
    ]);
    let token = |args: &[&str]| {
        dir.ok(&[&["token", "create", "--label", "browser test"][..], args].concat())
            .trim()
            .to_string()
    };
    let reader = token(&["--scope", "default", "--role", "reader"]);
    let foreign = token(&["--scope", DemoSite::FOREIGN_SCOPE, "--role", "admin"]);
    let admin = token(&["--instance-admin"]);
    let server = UiServer::start(&dir, &[]);
    DemoSite {
        server,
        reader,
        foreign,
        admin,
        dir,
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

/// chromedriver in its own process group; the group (browsers included) is killed on drop,
/// also when the browser session never started.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // `--` first: without it procps `kill` may read the group as an option.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium with a fresh profile, driven through its own chromedriver.
pub(crate) struct Browser {
    client: Client,
    // Dropped after the session is ended in `Drop for Browser`.
    _driver: Driver,
    driver_port: u16,
    session: Option<String>,
    _profile: tempfile::TempDir,
    /// Where the browser saves what a download link delivers, without asking.
    downloads: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a browser session through it. `None` (said on
    /// stderr) when Chromium or chromedriver is not installed, outside CI; under `CI=true`
    /// that fails the test.
    pub(crate) async fn start() -> Option<Browser> {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find_map(on_path);
        let (Some(chromium), Some(chromedriver)) = (chromium, on_path("chromedriver")) else {
            let missing = "Chromium and chromedriver are needed for the browser tests (apt-get install chromium chromium-driver)";
            assert!(!under_ci(), "CI=true and {missing}");
            eprintln!("SKIPPED: {missing}");
            return None;
        };
        let profile = tempfile::tempdir().expect("a profile directory");
        let downloads = tempfile::tempdir().expect("a downloads directory");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Driver({
            use std::os::unix::process::CommandExt;
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so that the browsers it starts are stopped with it.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|error| panic!("cannot start {}: {error}", chromedriver.display()))
        });
        let mut browser_args: Vec<String> =
            CHROMIUM_FLAGS.iter().map(|flag| flag.to_string()).collect();
        browser_args.push(format!("--user-data-dir={}", profile.path().display()));
        browser_args.push("--window-size=1366,900".to_string());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": browser_args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        while http_status(&format!("127.0.0.1:{port}"), "/status").is_none() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver could not start {}: {error}",
                    chromium.display()
                )
            });
        let session = client.session_id().await.ok().flatten();
        Some(Browser {
            client,
            _driver: driver,
            driver_port: port,
            downloads,
            session,
            _profile: profile,
        })
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// The current address's path and query.
    pub(crate) async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .expect("the current address");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Waits until the address's path and query satisfy `done`; returns it.
    pub(crate) async fn wait_for_path(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if done(&path) {
                return path;
            }
            assert!(Instant::now() < deadline, "the browser stayed at {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in on the sign-in page with `token`, typed into its field; waits to leave it.
    pub(crate) async fn sign_in(&self, server: &UiServer, token: &str) {
        if !self.path().await.starts_with("/ui/sign-in") {
            self.goto(&server.url("/ui/sign-in")).await;
        }
        self.fill("#token", token).await;
        self.click("form.sign-in button[type=submit]").await;
        self.wait_for_path(|path| !path.starts_with("/ui/sign-in"))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!("no {css} on {}: {error}", self.path().await),
        }
    }

    /// Every element matching `css` on the page as it is (none is fine).
    pub(crate) async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.all(css).await {
            texts.push(element.text().await.expect("an element's text"));
        }
        texts
    }

    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("cannot click {css}: {error}"));
    }

    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("cannot type into {css}: {error}"));
    }

    /// Clicks `selector` (a download link) and waits for the browser to save the file: its name
    /// and contents. Each test browser downloads into a directory of its own.
    pub(crate) async fn download(&self, selector: &str) -> (String, String) {
        let before: Vec<_> = std::fs::read_dir(self.downloads.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        self.click(selector).await;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let saved = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .filter(|name| !before.contains(name))
                .map(|name| name.to_string_lossy().into_owned())
                .find(|name| !name.ends_with(".crdownload") && !name.starts_with('.'));
            if let Some(name) = saved {
                // The name appears once Chromium renamed the finished temporary file.
                let text = std::fs::read_to_string(self.downloads.path().join(&name))
                    .expect("a UTF-8 download");
                return (name, text);
            }
            assert!(
                Instant::now() < deadline,
                "nothing was downloaded after clicking {selector}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` in the page (a returned promise is awaited) with `args`.
    pub(crate) async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|error| panic!("the script failed: {error}\n{script}"))
    }

    /// The status the server answers the page's own `fetch` of `path` (same origin, with
    /// the page's cookies).
    pub(crate) async fn status_of(&self, method: &str, path: &str, form: &str) -> u16 {
        let script = "const [method, path, form] = arguments; \
            const init = { method, redirect: 'manual', credentials: 'same-origin' }; \
            if (method !== 'GET') { init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' }; init.body = form; } \
            return fetch(path, init).then(r => r.status);";
        let status = self
            .script(script, vec![json!(method), json!(path), json!(form)])
            .await;
        status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_else(|| panic!("no status for {method} {path}: {status}"))
    }

    /// Ends the browser session and chromedriver.
    pub(crate) async fn close(mut self) {
        let client = self.client.clone();
        if client.close().await.is_ok() {
            self.session = None;
        }
    }
}

impl Drop for Browser {
    /// Also on a failed test: the session is ended over plain HTTP (no runtime needed here),
    /// then (dropping `Driver`) chromedriver's process group, browsers included, is killed.
    fn drop(&mut self) {
        if let Some(session) = self.session.take()
            && let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.driver_port))
        {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                stream,
                "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            // The status line is enough: the session is ended before the answer is sent.
            let _ = BufReader::new(stream).read_line(&mut String::new());
        }
    }
}
