//! `pedigree up --demo` on a new network writes the demo history of `serve --demo`, each
//! event at its organisation's own peer (or any peer, for an organisation running none),
//! before it says the peers are up; every peer holds it, SIGTERM stops them all cleanly,
//! and starting the same network again writes nothing more.

use e2e::pedigree_bin;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A running `pedigree up` and the lines it printed so far.
struct Up {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Up {
    /// Starts `pedigree up --demo` for four peers (three voting) and waits (up to 4 min:
    /// CI runs it on two cores) until it says the peers are up.
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(pedigree_bin())
            .args([
                "up",
                "--demo",
                "--peers",
                "4",
                "--voters",
                "3",
                "--data-dir",
            ])
            .arg(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting pedigree up");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut up = Self {
            child,
            lines,
            seen: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(240);
        while !up.seen.iter().any(|l| l.contains("peers up")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match up.lines.recv_timeout(left) {
                Ok(line) => up.seen.push(line),
                Err(_) => panic!("`up` did not say the peers are up: {:#?}", up.seen),
            }
        }
        up
    }

    /// SIGTERM, then up to 60 s for `up` to stop its peers and exit.
    fn stop(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for up") {
                return status;
            }
            assert!(Instant::now() < deadline, "`up` did not exit within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // A failed assertion: still let `up` stop its peers.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..400 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn call(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(s, resp)) => (s, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// What `demo-credentials.json` says: each peer's organisation and URL, each actor's
/// token and GraphQL URL.
struct Credentials(Value);

impl Credentials {
    fn read(dir: &Path) -> Self {
        let text = std::fs::read(dir.join("demo-credentials.json")).expect("credentials");
        Self(serde_json::from_slice(&text).expect("credentials parse"))
    }

    fn peers(&self) -> Vec<(String, String)> {
        self.0["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .map(|p| {
                let field = |k: &str| p[k].as_str().expect("peer field").to_string();
                (field("org"), field("url"))
            })
            .collect()
    }

    /// A GraphQL query as `actor`, at its own organisation's peer; panics on errors.
    fn gql(&self, actor: &str, query: &str) -> Value {
        let a = self.0["actors"]
            .as_array()
            .expect("actors")
            .iter()
            .find(|a| a["id"] == actor)
            .unwrap_or_else(|| panic!("no token for {actor}"));
        let (status, body) = call(
            ureq::post(a["graphql"].as_str().expect("graphql URL"))
                .set(
                    "authorization",
                    &format!("Bearer {}", a["token"].as_str().expect("token")),
                )
                .timeout(Duration::from_secs(20))
                .send_json(json!({"query": query})),
        );
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{actor}: {body}");
        body["data"].clone()
    }

    /// Every peer's height and event count (`GET /chain`).
    fn chains(&self) -> Vec<(u64, u64)> {
        self.peers()
            .iter()
            .map(|(org, url)| {
                let (status, c) = call(
                    ureq::get(&format!("{url}/chain"))
                        .timeout(Duration::from_secs(15))
                        .call(),
                );
                assert_eq!(status, 200, "{org}: {c}");
                (
                    c["height"].as_u64().expect("height"),
                    c["events"].as_u64().expect("events"),
                )
            })
            .collect()
    }
}

fn audit(dir: &Path, org: &str) {
    let out = Command::new(pedigree_bin())
        .arg("audit")
        .arg("--data-dir")
        .arg(dir.join(org))
        .output()
        .expect("running pedigree audit");
    assert!(
        out.status.success(),
        "audit of {org} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn up_demo_writes_the_demo_history_once_at_every_peer() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let mut up = Up::start(dir);
    let progress: Vec<&String> = up.seen.iter().filter(|l| l.contains("demo ")).collect();
    assert!(
        progress.iter().any(|l| l.contains("recalls")) && progress.len() >= 11,
        "{:#?}",
        up.seen
    );

    let creds = Credentials::read(dir);
    let orgs: Vec<String> = creds.peers().into_iter().map(|(org, _)| org).collect();
    assert_eq!(
        orgs,
        ["medicines-agency", "acme-pharma", "medidev", "northwind"]
    );
    // `up` says the peers are up once every one holds the whole history.
    let chains = creds.chains();
    assert!(
        chains.iter().all(|c| *c == chains[0]) && chains[0].0 >= 11,
        "{chains:?}"
    );

    // The regulator, at its own peer (a voter), sees the recall; the issuer, at its own,
    // sees City Pharmacy's acknowledgement (City Pharmacy runs no peer here: its events
    // went through another one).
    let seen = creds.gql(
        "medicines-agency/inspector",
        "{ recalls(active: true) { gtin lots } }",
    );
    assert_eq!(
        seen["recalls"],
        json!([{"gtin": "00614141100057", "lots": ["SAL2604B"]}])
    );
    let issuer = creds.gql(
        "acme-pharma/qa",
        "{ recalls { holders { org { id } acknowledged } } }",
    );
    let holders = issuer["recalls"][0]["holders"].as_array().expect("holders");
    assert!(
        holders
            .iter()
            .any(|h| h["org"]["id"] == "city-pharmacy" && h["acknowledged"] == true),
        "{issuer}"
    );
    // Northwind's peer (a learner) knows a pack the pharmacy dispensed.
    let scan = creds.gql(
        "northwind/warehouse",
        "{ verify(code: \"(01)00614141100019(21)AMX0001\") { verdict } }",
    );
    assert_eq!(scan["verify"]["verdict"], "ALREADY_DISPENSED", "{scan}");

    let status = up.stop();
    assert!(status.success(), "`up` exited with {status}");
    for org in &orgs {
        audit(dir, org);
    }

    // The same network again: new ports, the same chain, no second history.
    let mut again = Up::start(dir);
    assert!(
        !again.seen.iter().any(|l| l.contains("demo history")),
        "{:#?}",
        again.seen
    );
    let creds = Credentials::read(dir);
    assert_eq!(creds.chains(), chains);
    let status = again.stop();
    assert!(status.success(), "`up` exited with {status}");
}
