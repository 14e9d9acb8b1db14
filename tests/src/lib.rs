//! End-to-end test support: runs the real `pedigree` binary on free loopback ports with
//! temporary data directories, and talks to it over HTTP like any client would.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The `pedigree` binary of this workspace. `cargo test --workspace` builds it; when it
/// is missing or older than any source file (say, after `cargo test -p e2e` alone), it is
/// built here first.
pub fn pedigree_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>/pedigree
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let bin = profile_dir.join(format!("pedigree{}", std::env::consts::EXE_SUFFIX));
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let root = workspace_root();
        let newest = ["ledger", "scanners", "platform", "fixtures", "graphql"]
            .iter()
            .filter_map(|d| newest_source(&root.join(d)))
            .max();
        if built.is_none() || newest > built {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.current_dir(&root)
                .args(["build", "-p", "pedigree", "--bin", "pedigree"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("running cargo build");
            assert!(status.success(), "building pedigree failed");
        }
        bin
    })
}

/// The workspace root (the folder above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn newest_source(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let t = if path.is_dir() {
            newest_source(&path)
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            entry.metadata().and_then(|m| m.modified()).ok()
        } else {
            None
        };
        newest = newest.max(t);
    }
    newest
}

/// Runs `pedigree ARGS` to completion.
pub fn pedigree(args: &[&str]) -> Output {
    Command::new(pedigree_bin())
        .args(args)
        .output()
        .expect("running pedigree")
}

/// A `pedigree serve` process.
pub struct Peer {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl Peer {
    /// Starts `pedigree serve --data-dir DIR --listen 127.0.0.1:0 [extra]` and waits until it
    /// prints its address.
    pub fn serve(dir: &Path, extra: &[&str]) -> Result<Self> {
        let mut child = Command::new(pedigree_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting pedigree serve")?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                bail!("pedigree serve did not report its address within 60 s");
            }
        };
        Ok(Self { child, url })
    }

    /// Kills the process with SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }

    /// GET a path; returns status and JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        response(
            ureq::get(&format!("{}{path}", self.url))
                .timeout(Duration::from_secs(15))
                .call(),
        )
    }

    /// GET a path with a bearer token.
    pub fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        response(
            ureq::get(&format!("{}{path}", self.url))
                .set("authorization", &format!("Bearer {token}"))
                .timeout(Duration::from_secs(15))
                .call(),
        )
    }

    /// POST JSON to a path; returns status and JSON body.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        response(
            ureq::post(&format!("{}{path}", self.url))
                .timeout(Duration::from_secs(15))
                .send_json(body),
        )
    }

    /// POST raw bytes.
    pub fn post_bytes(&self, path: &str, body: &[u8]) -> (u16, Value) {
        response(
            ureq::post(&format!("{}{path}", self.url))
                .set("content-type", "application/json")
                .timeout(Duration::from_secs(15))
                .send_bytes(body),
        )
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn response(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => {
            let status = resp.status();
            let text = resp.into_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(ureq::Error::Status(status, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}
