//! The page of `honyaku serve` in a real browser: Debian's headless `chromium` driven through
//! `chromedriver` (WebDriver) on loopback. Loads the page, types a sentence, reads the
//! translation back from the page, compares it with the API's, and saves a screenshot
//! (`$CARGO_TARGET_TMPDIR/serve_page.png`). `scripts/test.sh` installs chromium and
//! chromium-driver when they are missing.

mod common;
mod serve_support;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use serve_support::{Server, fixture, request, run_arg};

/// A chromedriver process on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect(
                "chromedriver not found: install Debian's chromium and chromium-driver \
                 (scripts/test.sh does so when it runs as root)",
            );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        while !matches!(request(addr, "GET", "/status", None), Ok(r) if r.status == 200) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, addr }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chrome_capabilities(profile: &Path) -> serde_json::Map<String, serde_json::Value> {
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1280,1400".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.push("--lang=en-US".into());
    let mut options = json!({ "args": args });
    if Path::new("/usr/bin/chromium").is_file() {
        options["binary"] = "/usr/bin/chromium".into();
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    caps
}

#[test]
fn the_page_translates_a_typed_sentence_in_a_real_browser() {
    let fx = fixture("browser");
    let server = Server::start(
        &[
            "--run",
            &run_arg("lstm", &fx.lstm),
            "--run",
            &run_arg("attention", &fx.attention),
            "--src-lang",
            "en",
            "--tgt-lang",
            "en",
        ],
        &[],
    );
    let corpus = fx.lstm.parent().unwrap().parent().unwrap().join("corpus");
    let sentence = std::fs::read_to_string(corpus.join("test.src")).unwrap();
    let sentence = sentence.lines().next().unwrap().to_string();
    // The page asks with beam 4 and 3-best by default.
    let body = json!({"run": "attention", "text": [sentence], "beam": 4, "nbest": 3});
    let expected = server.translate(&body).json()["results"][0]["hypotheses"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();

    let driver = Driver::start();
    let profile = honyaku_conformance::tempdir().unwrap();
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve_page.png");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page_text = runtime.block_on(async {
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(chrome_capabilities(profile.path()))
            .connect(&format!("http://{}", driver.addr))
            .await
            .expect("a WebDriver session");
        let result = drive(&client, &server.url(), &sentence, &shot).await;
        client.close().await.expect("closing the browser");
        result
    });
    let shown = if expected.is_empty() {
        "(empty)"
    } else {
        expected.as_str()
    };
    assert_eq!(page_text, shown, "the page shows the API's translation");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a screenshot was saved"
    );
    eprintln!("screenshot: {}", shot.display());
    drop(driver);
}

/// Types `sentence`, translates, waits for both columns and the heatmap, saves a screenshot
/// to `shot` and returns the attention run's best translation as the page shows it.
async fn drive(client: &fantoccini::Client, url: &str, sentence: &str, shot: &Path) -> String {
    let wait = Duration::from_secs(60);
    client.goto(url).await.expect("loading the page");
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css(".chip[data-run=\"attention\"]"))
        .await
        .expect("the run list appears");
    let source = client.find(Locator::Css("#source")).await.unwrap();
    source.send_keys(sentence).await.unwrap();
    client
        .find(Locator::Css("#translate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let best = client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css(
            ".run-col[data-run=\"attention\"] .hyp.best .hyp-text",
        ))
        .await
        .expect("a translation appears");
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css(
            ".run-col[data-run=\"lstm\"] .hyp.best .hyp-text",
        ))
        .await
        .expect("the second run's translation appears");
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#attention:not([hidden]) canvas"))
        .await
        .expect("the attention heatmap appears");
    let text = best.text().await.unwrap();
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(shot, png).unwrap();
    let heatmap = client.find(Locator::Css("#attention")).await.unwrap();
    let png = heatmap
        .screenshot()
        .await
        .expect("a screenshot of the heatmap");
    std::fs::write(shot.with_file_name("serve_attention.png"), png).unwrap();
    text
}
