//! `pedigree bench verify`: the BRIEF's "verify p95 at most 30 ms while ingest runs, at
//! 1,000 requests/s". It starts a seeded demo peer on loopback (`serve --demo`, port 0),
//! sends GraphQL `verify` requests at a fixed rate (open loop: each request's latency
//! counts from when it was due, so a stalled peer cannot hide its queue), first alone and
//! then while another thread ingests signed events over `POST /events`, and prints one
//! JSON line with p50/p95/p99 and the throughput of each phase.

use anyhow::{Context, Result, bail};
use clap::Args;
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `pedigree bench verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify requests per second offered.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Requests per phase.
    #[arg(long, default_value_t = 5000)]
    pub requests: usize,
    /// Events per second ingested during the second phase (0: no second phase).
    #[arg(long, default_value_t = 5000.0)]
    pub ingest_rate: f64,
    /// Longest a phase may run, in seconds.
    #[arg(long, default_value_t = 60)]
    pub max_seconds: u64,
    /// Client threads.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Data directory for the peer (default: a fresh temporary one).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Codes of the seeded demo: packs in every state a pharmacy meets.
const CODES: &[&str] = &[
    "(01)00614141100019(21)AMX0003",
    "(01)00614141100019(21)AMX0001",
    "]d2010061414110005721SAL0001\u{1d}10SAL2604B",
    "https://id.gs1.org/01/00614141100026/21/MET0004",
    "(01)00614141100019(21)AMX0009",
    "(01)00614141100019(21)NEVER",
];

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &std::path::Path) -> Result<(Server, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting pedigree serve")?;
    let out = child.stdout.take().context("stdout")?;
    let server = Server(child);
    for line in BufReader::new(out).lines() {
        if let Some(url) = line?.split("listening on ").nth(1) {
            let url = url.trim().to_string();
            if !url.starts_with("http://127.0.0.1:") {
                bail!("the bench runs on loopback only, got {url}");
            }
            return Ok((server, url));
        }
    }
    bail!("pedigree serve stopped before listening")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// One phase: `n` verify requests at `rate`; latency (ms) per answered request.
fn phase(args: &VerifyArgs, url: &str, token: &str) -> Value {
    let agent = ureq::AgentBuilder::new()
        .max_idle_connections(args.clients)
        .timeout(Duration::from_secs(10))
        .build();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.max_seconds);
    let handles: Vec<_> = (0..args.clients.max(1))
        .map(|_| {
            let (agent, next, errors) = (agent.clone(), next.clone(), errors.clone());
            let (url, token, rate, n) = (url.to_string(), token.to_string(), args.rate, args.requests);
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    if due > deadline {
                        break;
                    }
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let body = json!({"query": "query($c: String!) { verify(code: $c) { verdict reason nextAction } }",
                                      "variables": {"c": CODES[i % CODES.len()]}});
                    let ok = agent
                        .post(&format!("{url}/graphql"))
                        .set("authorization", &format!("Bearer {token}"))
                        .send_json(body)
                        .ok()
                        .and_then(|r| r.into_json::<Value>().ok())
                        .is_some_and(|v| v["data"]["verify"]["verdict"].is_string());
                    if ok {
                        lat.push(due.elapsed().as_secs_f64() * 1e3);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    json!({
        "requests": lat.len(),
        "errors": errors.load(Ordering::Relaxed),
        "offered_per_s": args.rate,
        "throughput_per_s": (lat.len() as f64 / elapsed).round(),
        "p50_ms": (percentile(&lat, 0.50) * 100.0).round() / 100.0,
        "p95_ms": (percentile(&lat, 0.95) * 100.0).round() / 100.0,
        "p99_ms": (percentile(&lat, 0.99) * 100.0).round() / 100.0,
        "max_ms": (lat.last().copied().unwrap_or(f64::NAN) * 100.0).round() / 100.0,
    })
}

/// Ingests signed anchor events at `rate` until `stop`; returns events committed.
fn ingest(url: String, rate: f64, stop: Arc<AtomicBool>) -> usize {
    let d = demo(&PeerLayout::Single {
        endpoint: String::new(),
    });
    let signers: Vec<_> = [
        "northwind/warehouse",
        "acme-pharma/line-1",
        "city-pharmacy/admin",
        "st-mary/admin",
    ]
    .iter()
    .map(|a| d.signer(a))
    .collect();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(15))
        .build();
    let batch = 50usize;
    let start = Instant::now();
    let mut sent = 0usize;
    let mut committed = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs_f64(sent as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let events: Vec<Value> = (0..batch)
            .map(|i| {
                let s = &signers[(sent + i) % signers.len()];
                s.event(
                    "anchor",
                    "anchor",
                    json!({"digest": sha256(&(sent + i).to_le_bytes()), "reference": "bench"}),
                )
                .to_json_value()
            })
            .collect();
        sent += batch;
        if let Ok(r) = agent
            .post(&format!("{url}/events"))
            .send_json(Value::Array(events))
        {
            committed += r
                .into_json::<Value>()
                .ok()
                .and_then(|v| {
                    v["events"]
                        .as_array()
                        .map(|e| e.iter().filter(|x| x["status"] == "committed").count())
                })
                .unwrap_or(0);
        }
    }
    committed
}

/// Runs `pedigree bench verify`.
pub fn run(args: VerifyArgs) -> Result<()> {
    if args.rate <= 0.0 || args.requests == 0 {
        bail!("--rate and --requests must be positive");
    }
    let tmp;
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            tmp =
                std::env::temp_dir().join(format!("pedigree-bench-verify-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            tmp.clone()
        }
    };
    let (_server, url) = start(&dir)?;
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(crate::auth::CREDENTIALS_FILE))
            .context("reading demo credentials")?,
    )?;
    let token = creds["actors"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "city-pharmacy/pharmacist"))
        .and_then(|x| x["token"].as_str())
        .context("no pharmacist token in the demo credentials")?
        .to_string();
    let alone = phase(&args, &url, &token);
    let mut report = json!({"bench": "verify", "peer": url, "alone": alone});
    if args.ingest_rate > 0.0 {
        let stop = Arc::new(AtomicBool::new(false));
        let load = {
            let (url, stop, rate) = (url.clone(), stop.clone(), args.ingest_rate);
            std::thread::spawn(move || ingest(url, rate, stop))
        };
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let under = phase(&args, &url, &token);
        let secs = started.elapsed().as_secs_f64() + 0.5;
        stop.store(true, Ordering::Relaxed);
        let committed = load.join().unwrap_or(0);
        report["with_ingest"] = under;
        report["with_ingest"]["ingest_offered_per_s"] = json!(args.ingest_rate);
        report["with_ingest"]["ingest_committed_per_s"] = json!((committed as f64 / secs).round());
    }
    if args.data_dir.is_none() {
        drop(_server);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{report}");
    Ok(())
}
