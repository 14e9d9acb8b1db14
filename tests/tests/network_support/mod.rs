//! A demo network of real `pedigree serve` processes: `pedigree up --demo --init-only`
//! lays out one data directory per organisation (shared genesis, fixed loopback ports),
//! and each peer is started, stopped, killed and restarted on its own.

#![allow(dead_code)]

use e2e::pedigree_bin;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One peer of the network.
pub struct Info {
    pub peer: String,
    pub org: String,
    pub url: String,
    pub dir: PathBuf,
    pub voter: bool,
}

pub struct Net {
    pub root: tempfile::TempDir,
    pub peers: Vec<Info>,
    procs: Vec<Option<Child>>,
    credentials: Value,
}

impl Net {
    /// Lays out `count` peers (the first organisations), `voters` of them voting, and
    /// starts them all.
    pub fn start(count: usize, voters: usize) -> Self {
        let root = tempfile::tempdir().unwrap();
        let out = Command::new(pedigree_bin())
            .args(["up", "--demo", "--init-only", "--peers", &count.to_string()])
            .args(["--voters", &voters.to_string(), "--data-dir"])
            .arg(root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let network: Value =
            serde_json::from_slice(&std::fs::read(root.path().join("network.json")).unwrap())
                .unwrap();
        let credentials: Value = serde_json::from_slice(
            &std::fs::read(root.path().join("demo-credentials.json")).unwrap(),
        )
        .unwrap();
        let peers: Vec<Info> = network["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Info {
                peer: p["peer"].as_str().unwrap().into(),
                org: p["org"].as_str().unwrap().into(),
                url: p["url"].as_str().unwrap().into(),
                dir: root.path().join(p["dir"].as_str().unwrap()),
                voter: p["voter"].as_bool().unwrap(),
            })
            .collect();
        let mut net = Self {
            root,
            procs: peers.iter().map(|_| None).collect(),
            peers,
            credentials,
        };
        for i in 0..net.peers.len() {
            net.run(i);
        }
        net
    }

    /// Starts peer `i` and waits until it listens.
    pub fn run(&mut self, i: usize) {
        let listening = self.spawn(i);
        self.wait_listening(i, listening);
    }

    /// Starts peer `i`, its log appended to `peer.log` in its data directory; the receiver
    /// gets a message once it listens.
    pub fn spawn(&mut self, i: usize) -> std::sync::mpsc::Receiver<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
            .unwrap();
        let mut child = Command::new(pedigree_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.peers[i].dir)
            .env("RUST_LOG", "warn,openraft=off")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        self.procs[i] = Some(child);
        rx
    }

    /// Waits (up to 60 s) for a peer started by [`Net::spawn`] to listen.
    pub fn wait_listening(&self, i: usize, listening: std::sync::mpsc::Receiver<()>) {
        if listening.recv_timeout(Duration::from_secs(60)).is_err() {
            panic!(
                "{} did not start; its log:\n{}",
                self.peers[i].peer,
                self.log(i)
            );
        }
    }

    /// Where peer `i` logs.
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.peers[i].dir.join("peer.log")
    }

    /// Peer `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }

    /// Adds a peer made outside `up` (e.g. by `pedigree init --join`), not started.
    pub fn add(&mut self, info: Info) -> usize {
        self.peers.push(info);
        self.procs.push(None);
        self.peers.len() - 1
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.procs[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and wait for the process to end.
    pub fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.procs[i].take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn running(&self, i: usize) -> bool {
        self.procs[i].is_some()
    }

    pub fn index(&self, peer: &str) -> usize {
        self.peers.iter().position(|p| p.peer == peer).unwrap()
    }

    pub fn get(&self, i: usize, path: &str) -> (u16, Value) {
        call(
            ureq::get(&format!("{}{path}", self.peers[i].url))
                .timeout(Duration::from_secs(15))
                .call(),
        )
    }

    pub fn post(&self, i: usize, path: &str, body: &Value) -> (u16, Value) {
        call(
            ureq::post(&format!("{}{path}", self.peers[i].url))
                .timeout(Duration::from_secs(20))
                .send_json(body),
        )
    }

    pub fn token(&self, actor: &str) -> String {
        self.credentials["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == actor)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A GraphQL call at peer `i` as `actor`; panics on errors.
    pub fn gql(&self, i: usize, actor: &str, query: &str, variables: Value) -> Value {
        let (status, body) = call(
            ureq::post(&format!("{}/graphql", self.peers[i].url))
                .set("authorization", &format!("Bearer {}", self.token(actor)))
                .timeout(Duration::from_secs(20))
                .send_json(json!({"query": query, "variables": variables})),
        );
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{actor} at peer {i}: {body}");
        body["data"].clone()
    }

    pub fn height(&self, i: usize) -> Option<u64> {
        let (status, body) = self.get(i, "/chain");
        (status == 200).then(|| body["height"].as_u64()).flatten()
    }

    /// The leading peer's index, as the running peers see it (up to 30 s).
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for i in (0..self.peers.len()).filter(|i| self.running(*i)) {
                let (status, s) = self.get(i, "/raft/status");
                if status == 200 && s["state"] == "Leader" {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no leader within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (up to 90 s) until every running peer is at `height` or above.
    pub fn converge(&self, height: u64) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let heights: Vec<Option<u64>> = (0..self.peers.len())
                .filter(|i| self.running(*i))
                .map(|i| self.height(i))
                .collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= height)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "peers did not reach height {height}: {heights:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every running peer holds the same block hashes up to the lowest head.
    pub fn assert_same_chain(&self) -> u64 {
        let running: Vec<usize> = (0..self.peers.len()).filter(|i| self.running(*i)).collect();
        let low = running
            .iter()
            .map(|i| self.height(*i).unwrap())
            .min()
            .unwrap();
        for h in 0..=low {
            let hashes: Vec<Value> = running
                .iter()
                .map(|i| self.get(*i, &format!("/blocks/{h}")).1["hash"].clone())
                .collect();
            assert!(
                hashes.iter().all(|x| *x == hashes[0] && x.is_string()),
                "block {h}: {hashes:?}"
            );
        }
        low
    }

    /// Stops every peer and runs `pedigree audit` on each data directory.
    pub fn stop_all_and_audit(&mut self) {
        for i in 0..self.peers.len() {
            self.stop(i);
        }
        for p in &self.peers {
            let out = Command::new(pedigree_bin())
                .arg("audit")
                .arg("--data-dir")
                .arg(&p.dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "audit of {} failed: {}",
                p.peer,
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..self.peers.len() {
            self.kill(i);
        }
    }
}

fn call(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => {
            let s = resp.status();
            (s, resp.into_json().unwrap_or(Value::Null))
        }
        Err(ureq::Error::Status(s, resp)) => (s, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// `n` signed anchor events by `actor`, as JSON.
pub fn anchors(actor: &str, tag: &str, n: usize) -> Vec<Value> {
    let d = fixtures::demo(&fixtures::PeerLayout::PerOrg {
        endpoints: Default::default(),
        voters: 3,
    });
    let signer = d.signer(actor);
    (0..n)
        .map(|k| {
            signer
                .event(
                    "anchor",
                    "anchor",
                    json!({"digest": ledger::hash::sha256(format!("{tag}/{k}").as_bytes()).to_hex()}),
                )
                .to_json_value()
        })
        .collect()
}
