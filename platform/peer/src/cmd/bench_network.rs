//! `pedigree bench network`: replicated ingest across a raft network of real peer
//! processes against one solo peer, in the same run and with the same signed events. Each
//! client thread signs as its own actor and posts its batches over `POST /events`, one at
//! a time; against the network the clients are spread over all peers (so most events are
//! forwarded to the leader). Every answer comes once the block is committed on the peer
//! that was asked, so the request latency is the commit latency a submitter sees. Prints
//! one JSON line: events per second, p50/p99 commit latency, and the ratio; also the CPU
//! seconds every peer process spent, since on one machine the peers share its cores while
//! in a deployment each has its own: `per_peer_cpu_over_single` compares the CPU one
//! peer spends per event in the network with what the single peer spends.

use anyhow::{Context, Result, bail};
use clap::Args;
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Arguments of `pedigree bench network`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Peers of the network (the first organisations of the demo; 3 of them vote).
    #[arg(long, default_value_t = 4)]
    pub peers: usize,
    /// Events per phase.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Client threads (each signs as its own actor).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Offer this many events per second in all (each client paces its batches) instead
    /// of as many as the peers take: commit latency at a load they sustain. Latency is
    /// then counted from when a batch was due, so a client running late counts its wait.
    #[arg(long)]
    pub rate: Option<f64>,
}

/// The demo actors the clients sign as.
const ACTORS: &[&str] = &[
    "medicines-agency/admin",
    "medicines-agency/inspector",
    "acme-pharma/qa",
    "acme-pharma/line-1",
    "medidev/qa",
    "northwind/warehouse",
    "city-pharmacy/pharmacist",
    "corner-pharmacy/pharmacist",
    "st-mary/pharmacist",
    "carehealth/adjudicator",
];

pub(crate) struct Proc(Child);

impl Proc {
    /// CPU seconds (user and system) the process has used so far, from `/proc` (Linux
    /// counts them in ticks of 1/100 s for every user-space program).
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at the state.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        match (tick(11), tick(12)) {
            (Some(u), Some(s)) => (u + s) / 100.0,
            _ => f64::NAN,
        }
    }
}

/// A peer's organisation and URL.
pub(crate) type OrgUrl = (String, String);

/// Lays out a demo network of `peers` peers (three voting) in `dir` with `pedigree up
/// --demo --init-only`, starts every peer and waits until each knows the leader (learners
/// too: they hear of it once they have joined). Returns the processes and each peer's
/// organisation and URL, in `network.json`'s order.
pub(crate) fn start_network(peers: usize, dir: &Path) -> Result<(Vec<Proc>, Vec<OrgUrl>)> {
    let status = Command::new(std::env::current_exe()?)
        .args(["up", "--demo", "--init-only", "--voters", "3", "--peers"])
        .arg(peers.to_string())
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("laying out the network failed");
    }
    let layout: Value = serde_json::from_slice(&std::fs::read(dir.join("network.json"))?)?;
    let mut procs = Vec::new();
    let mut urls = Vec::new();
    for p in layout["peers"].as_array().context("peers")? {
        let (proc, url) = serve(&[], &dir.join(p["dir"].as_str().unwrap_or_default()))?;
        procs.push(proc);
        urls.push((p["org"].as_str().unwrap_or_default().to_string(), url));
    }
    let all: Vec<String> = urls.iter().map(|(_, u)| u.clone()).collect();
    crate::cmd::up::wait_for_leader(&all, Duration::from_secs(60))?;
    Ok((procs, urls))
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn serve(args: &[&str], dir: &Path) -> Result<(Proc, String)> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        // Problems only, so they show; RUST_LOG set for the bench reaches the peers.
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,openraft=error".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a peer")?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let url = url.trim().to_string();
                    std::thread::spawn(move || for _ in lines {});
                    return Ok((proc, url));
                }
            }
            _ => break,
        }
    }
    bail!("a peer did not start")
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Pre-signed batches per client.
fn sign(args: &NetworkArgs) -> Vec<Vec<Value>> {
    let d = demo(&PeerLayout::PerOrg {
        endpoints: Default::default(),
        voters: 3,
    });
    let clients = args.clients.clamp(1, ACTORS.len());
    let per_client = args.events.div_ceil(clients);
    (0..clients)
        .map(|c| {
            let signer = d.signer(ACTORS[c]);
            (0..per_client)
                .map(|k| {
                    signer
                        .event(
                            "anchor",
                            "anchor",
                            json!({"digest": sha256(format!("bench-net/{c}/{k}").as_bytes()).to_hex()}),
                        )
                        .to_json_value()
                })
                .collect()
        })
        .collect()
}

/// Every client posts its batches to its URL (paced to `rate` events/s in all, when
/// given); returns events/s, p50 and p99 in ms.
fn phase(urls: &[String], work: &[Vec<Value>], batch: usize, rate: Option<f64>) -> Value {
    let start = Instant::now();
    let batch = batch.max(1);
    // Each client's time between batches.
    let every = rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64((batch * work.len()) as f64 / r));
    let handles: Vec<_> = work
        .iter()
        .enumerate()
        .map(|(c, events)| {
            let url = format!("{}/events", urls[c % urls.len()]);
            let events = events.clone();
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                let mut latencies = Vec::new();
                let mut committed = 0usize;
                let mut failed = 0usize;
                for (k, chunk) in events.chunks(batch).enumerate() {
                    let t = match every {
                        Some(every) => {
                            let due = start + every * k as u32;
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                            due
                        }
                        None => Instant::now(),
                    };
                    match agent.post(&url).send_json(Value::Array(chunk.to_vec())) {
                        Ok(_) => {
                            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                            committed += chunk.len();
                        }
                        Err(_) => failed += chunk.len(),
                    }
                }
                (latencies, committed, failed)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut by_peer: Vec<Vec<f64>> = vec![Vec::new(); urls.len()];
    let (mut committed, mut failed) = (0, 0);
    for (c, h) in handles.into_iter().enumerate() {
        let (l, n, f) = h.join().unwrap_or_default();
        by_peer[c % urls.len()].extend(&l);
        latencies.extend(l);
        committed += n;
        failed += f;
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    // Per peer asked: the leader answers once it has applied; another peer once it has
    // heard the block is committed and applied it too.
    let per_peer: Vec<Value> = urls
        .iter()
        .zip(&mut by_peer)
        .map(|(url, l)| {
            l.sort_by(f64::total_cmp);
            json!({"url": url, "commit_ms_p50": percentile(l, 0.50), "commit_ms_p99": percentile(l, 0.99)})
        })
        .collect();
    json!({
        "commit_ms_by_peer": per_peer,
        "events_committed": committed,
        "events_failed": failed,
        "seconds": seconds,
        "events_per_second": committed as f64 / seconds,
        "commit_ms_p50": percentile(&latencies, 0.50),
        "commit_ms_p99": percentile(&latencies, 0.99),
    })
}

/// Runs `pedigree bench network`.
pub fn run(args: NetworkArgs) -> Result<()> {
    let peers = args.peers.clamp(3, 8);
    let work = sign(&args);
    let tmp = std::env::temp_dir().join(format!("pedigree-bench-network-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let outcome = measure(&args, peers, &work, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    outcome
}

fn measure(args: &NetworkArgs, peers: usize, work: &[Vec<Value>], tmp: &Path) -> Result<()> {
    let single_dir = tmp.join("single");
    let (single, url) = serve(
        &["--demo", "--no-seed", "--listen", "127.0.0.1:0"],
        &single_dir,
    )?;
    let before = single.cpu_seconds();
    let mut solo = phase(std::slice::from_ref(&url), work, args.batch, args.rate);
    let solo_cpu = single.cpu_seconds() - before;
    solo["cpu_seconds"] = json!(solo_cpu);
    drop(single);

    let (procs, peers_at) = start_network(peers, &tmp.join("network"))?;
    let urls: Vec<String> = peers_at.into_iter().map(|(_, url)| url).collect();
    let before: Vec<f64> = procs.iter().map(Proc::cpu_seconds).collect();
    let mut replicated = phase(&urls, work, args.batch, args.rate);
    let per_peer: Vec<f64> = procs
        .iter()
        .zip(&before)
        .map(|(p, b)| p.cpu_seconds() - b)
        .collect();
    let network_cpu: f64 = per_peer.iter().sum();
    replicated["cpu_seconds"] = json!(network_cpu);
    replicated["cpu_seconds_per_peer"] = json!(per_peer);
    drop(procs);

    let rate = |v: &Value| v["events_per_second"].as_f64().unwrap_or(0.0);
    let ratio = rate(&replicated) / rate(&solo);
    // What one peer spends per event in the network against what it spends alone: the
    // wall-clock ratio on a machine of its own per peer, where CPU is what limits.
    let committed = |v: &Value| v["events_committed"].as_f64().unwrap_or(0.0);
    let solo_per_cpu = committed(&solo) / solo_cpu;
    let peer_per_cpu = committed(&replicated) / (network_cpu / peers as f64);
    let cpu_ratio = peer_per_cpu / solo_per_cpu;
    println!(
        "{}",
        json!({
            "bench": "network",
            "peers": peers,
            "voters": 3,
            "clients": work.len(),
            "batch": args.batch,
            "offered_events_per_second": args.rate,
            "single_peer": solo,
            "replicated": replicated,
            "replicated_over_single": ratio,
            "per_peer_cpu_over_single": cpu_ratio,
        })
    );
    Ok(())
}
