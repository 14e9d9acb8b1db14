//! `pedigree bench recall`: how long a recall takes to reach every holder's own peer. A raft
//! network of real peer processes is laid out as in `bench network`; acme-pharma commissions
//! one lot per recall and ships a unit of every lot to each holder organisation that has a
//! peer (distributor, pharmacies, hospital), which receives it. Each holder subscribes to
//! `recallAlerts` over a websocket on its own peer; then acme-pharma's recall manager issues
//! the recalls one after another at acme-pharma's peer. Every alert is timed twice: from the
//! moment the issuing request was sent, and from the moment the issuing peer answered (the
//! recall committed there; negative when a holder's peer applied the block first).
//! `--load N` adds N anchor events per second at another peer while the recalls run. Prints
//! one JSON line with p50/p95/p99/max of both and the command that reproduces it.

use crate::cmd::bench_network::{Proc, percentile, start_network};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;

/// Arguments of `pedigree bench recall`.
#[derive(Debug, Args)]
pub struct RecallArgs {
    /// Peers of the network (the first organisations of the demo, 3 to 8; 3 of them vote).
    /// Holders are the distributor, pharmacies and hospital among them: 5 peers give
    /// northwind and city-pharmacy, 7 or 8 add corner-pharmacy and st-mary.
    #[arg(long, default_value_t = 5)]
    pub peers: usize,
    /// Recalls issued, one lot each (at most 2000).
    #[arg(long, default_value_t = 200)]
    pub recalls: usize,
    /// Pause between one recall's answer and the next recall, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub pause_ms: u64,
    /// Background anchor events per second at another peer while the recalls run
    /// (0: quiet; at most 20000).
    #[arg(long, default_value_t = 0)]
    pub load: usize,
    /// How long to wait for the last alerts after the last recall before counting them
    /// missed, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_s: u64,
}

/// Organisations that can hold units, with the actor that receives and subscribes.
const HOLDERS: &[(&str, &str)] = &[
    ("northwind", "northwind/warehouse"),
    ("city-pharmacy", "city-pharmacy/pharmacist"),
    ("corner-pharmacy", "corner-pharmacy/pharmacist"),
    ("st-mary", "st-mary/pharmacist"),
];
const MAKER: &str = "acme-pharma";
const GTIN: &str = "00614141100033";
/// The issuing phase stops after this long, however many recalls are left.
const ISSUE_LIMIT: Duration = Duration::from_secs(600);
/// The background load stops after this long even if the recalls have not ended.
const LOAD_LIMIT: Duration = Duration::from_secs(900);

/// The running network: peer processes, their organisations and URLs, and demo tokens.
struct Network {
    _procs: Vec<Proc>,
    peers: Vec<(String, String)>,
    tokens: HashMap<String, String>,
    agent: ureq::Agent,
}

impl Network {
    fn url(&self, org: &str) -> Result<&str> {
        self.peers
            .iter()
            .find(|(o, _)| o == org)
            .map(|(_, u)| u.as_str())
            .with_context(|| format!("no peer for {org}"))
    }

    fn token(&self, actor: &str) -> Result<&str> {
        self.tokens
            .get(actor)
            .map(String::as_str)
            .with_context(|| format!("no demo token for {actor}"))
    }

    /// A GraphQL call as `actor` at its organisation's peer; GraphQL errors are errors.
    fn gql(&self, actor: &str, query: &str, variables: Value) -> Result<Value> {
        let org = actor.split('/').next().unwrap_or_default();
        let answer = self
            .agent
            .post(&format!("{}/graphql", self.url(org)?))
            .set("authorization", &format!("Bearer {}", self.token(actor)?))
            .send_json(json!({"query": query, "variables": variables}));
        let body: Value = match answer {
            Ok(r) => r.into_json()?,
            Err(ureq::Error::Status(_, r)) => r.into_json()?,
            Err(e) => return Err(e.into()),
        };
        if !body["errors"].is_null() {
            bail!("{actor}: {}", body["errors"]);
        }
        Ok(body["data"].clone())
    }

    fn height(&self, url: &str) -> Option<u64> {
        let r = self.agent.get(&format!("{url}/chain")).call().ok()?;
        r.into_json::<Value>().ok()?["height"].as_u64()
    }

    /// Waits (up to 60 s) until every peer holds block `height`.
    fn converge(&self, height: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .peers
            .iter()
            .all(|(_, u)| self.height(u).is_some_and(|h| h >= height))
        {
            if Instant::now() > deadline {
                bail!("the peers did not reach block {height} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// Runs `pedigree bench recall`.
pub fn run(args: RecallArgs) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("pedigree-bench-recall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let outcome = start(&args, &tmp).and_then(|net| measure(&args, &net));
    let _ = std::fs::remove_dir_all(&tmp);
    println!("{}", outcome?);
    Ok(())
}

/// Lays out the network with `pedigree up --init-only`, starts every peer and waits until
/// all of them know the leader (learners included).
fn start(args: &RecallArgs, dir: &Path) -> Result<Network> {
    let (procs, urls) = start_network(args.peers.clamp(3, 8), dir)?;
    let credentials: Value =
        serde_json::from_slice(&std::fs::read(dir.join("demo-credentials.json"))?)?;
    let tokens = credentials["actors"]
        .as_array()
        .context("actors")?
        .iter()
        .filter_map(|a| Some((a["id"].as_str()?.into(), a["token"].as_str()?.into())))
        .collect();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    Ok(Network {
        _procs: procs,
        peers: urls,
        tokens,
        agent,
    })
}

/// The holders with a peer in this network.
fn holders(net: &Network) -> Vec<(&'static str, &'static str)> {
    HOLDERS
        .iter()
        .copied()
        .filter(|(org, _)| net.url(org).is_ok())
        .collect()
}

fn lot(k: usize) -> String {
    format!("BR{k}")
}

fn code(k: usize, holder: usize) -> String {
    format!("(01){GTIN}(21)BR{k}H{holder}")
}

/// One unit of every lot at every holder, received there.
fn setup(net: &Network, recalls: usize, holders: &[(&str, &str)]) -> Result<()> {
    let maker = format!("{MAKER}/line-1");
    for k in 0..recalls {
        let serials: Vec<String> = (0..holders.len()).map(|h| format!("BR{k}H{h}")).collect();
        net.gql(
            &maker,
            "mutation($i: CommissionInput!) { commission(input: $i) { blockHeight } }",
            json!({"i": {"gtin": GTIN, "lot": lot(k), "expiry": "2029-03-31", "serials": serials}}),
        )?;
    }
    let mut top = 0;
    for (h, (org, actor)) in holders.iter().enumerate() {
        let codes: Vec<String> = (0..recalls).map(|k| code(k, h)).collect();
        let shipped = net.gql(
            &maker,
            "mutation($i: ShipInput!) { ship(input: $i) { blockHeight } }",
            json!({"i": {"codes": codes, "to": org}}),
        )?["ship"]["blockHeight"]
            .as_u64()
            .context("ship height")?;
        net.converge(shipped)?;
        let received = net.gql(
            actor,
            "mutation($i: ReceiveInput!) { receive(input: $i) { blockHeight } }",
            json!({"i": {"codes": codes}}),
        )?["receive"]["blockHeight"]
            .as_u64()
            .context("receive height")?;
        top = top.max(received);
    }
    net.converge(top)
}

/// An alert as one holder's websocket saw it.
struct Alert {
    holder: usize,
    recall: String,
    at: Instant,
}

/// Subscribes to `recallAlerts` as `actor` at its peer and reads alerts on a thread of its
/// own (so an alert is timed as it arrives) until `stop`.
fn listen(
    url: &str,
    token: &str,
    holder: usize,
    alerts: Arc<Mutex<Vec<Alert>>>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<usize>> {
    let addr = url.trim_start_matches("http://");
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().context("header")?,
    );
    let (mut ws, _) =
        tungstenite::client(request, stream).map_err(|e| anyhow!("websocket handshake: {e}"))?;
    let send = |ws: &mut tungstenite::WebSocket<TcpStream>, v: Value| {
        ws.send(Message::Text(v.to_string().into()))
            .map_err(|e| anyhow!("websocket: {e}"))
    };
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )?;
    let ack = ws.read()?;
    if !ack.to_text().unwrap_or_default().contains("connection_ack") {
        bail!("no connection_ack: {ack}");
    }
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query":
            "subscription { recallAlerts { unitsHeld recall { id } } }"}}),
    )?;
    // Short reads, so the thread sees `stop` soon after it is set.
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)))?;
    Ok(std::thread::spawn(move || {
        let mut odd = 0;
        while !stop.load(Ordering::SeqCst) {
            match ws.read() {
                Ok(Message::Text(t)) => {
                    let at = Instant::now();
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    match v["type"].as_str() {
                        Some("next") => {
                            let a = &v["payload"]["data"]["recallAlerts"];
                            match a["recall"]["id"].as_str() {
                                Some(id) if a["unitsHeld"] == 1 => alerts
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(Alert {
                                        holder,
                                        recall: id.to_string(),
                                        at,
                                    }),
                                _ => odd += 1,
                            }
                        }
                        Some("ping") => {
                            let _ = send(&mut ws, json!({"type": "pong"}));
                        }
                        _ => odd += 1,
                    }
                }
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        odd
    }))
}

/// Anchor events at `rate` per second posted to `url` until `stop` (or [`LOAD_LIMIT`]);
/// answers the events committed and failed and the seconds it ran.
fn load(url: String, rate: usize, stop: Arc<AtomicBool>) -> JoinHandle<(usize, usize, f64)> {
    std::thread::spawn(move || {
        let signer = demo(&PeerLayout::PerOrg {
            endpoints: Default::default(),
            voters: 3,
        })
        .signer("medidev/qa");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let url = format!("{url}/events");
        let start = Instant::now();
        let (mut sent, mut committed, mut failed) = (0usize, 0usize, 0usize);
        while !stop.load(Ordering::SeqCst) && start.elapsed() < LOAD_LIMIT {
            let due = (rate as f64 * start.elapsed().as_secs_f64()) as usize;
            let n = due.saturating_sub(sent).min(2_000);
            if n == 0 {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            let events: Vec<Value> = (sent..sent + n)
                .map(|k| {
                    let digest = sha256(format!("bench-recall/{k}").as_bytes()).to_hex();
                    signer
                        .event("anchor", "anchor", json!({ "digest": digest }))
                        .to_json_value()
                })
                .collect();
            sent += n;
            let ok = agent
                .post(&url)
                .send_json(Value::Array(events))
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .map(|b| {
                    b["events"].as_array().map_or(0, |es| {
                        es.iter().filter(|e| e["status"] == "committed").count()
                    })
                })
                .unwrap_or(0);
            committed += ok;
            failed += n - ok;
        }
        (committed, failed, start.elapsed().as_secs_f64())
    })
}

/// A recall as the issuing client saw it.
struct Issued {
    id: String,
    sent: Instant,
    answered: Instant,
}

fn measure(args: &RecallArgs, net: &Network) -> Result<Value> {
    let recalls = args.recalls.clamp(1, 2_000);
    let holders = holders(net);
    if holders.is_empty() {
        bail!("no holder organisation has a peer; use --peers 4 or more");
    }
    let setup_start = Instant::now();
    setup(net, recalls, &holders)?;
    let setup_seconds = setup_start.elapsed().as_secs_f64();

    let alerts = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut listeners = Vec::new();
    for (h, (org, actor)) in holders.iter().enumerate() {
        listeners.push(listen(
            net.url(org)?,
            net.token(actor)?,
            h,
            alerts.clone(),
            stop.clone(),
        )?);
    }
    // `subscribe` has no acknowledgement; give the peers a moment to register the streams.
    std::thread::sleep(Duration::from_millis(500));

    let stop_load = Arc::new(AtomicBool::new(false));
    let rate = args.load.min(20_000);
    // Load goes where neither the recall nor an alert is handled.
    let load_org = net
        .peers
        .iter()
        .map(|(o, _)| o.as_str())
        .find(|o| *o != MAKER && !holders.iter().any(|(h, _)| h == o))
        .context("no peer left for the load")?;
    let loader = (rate > 0).then(|| {
        load(
            net.url(load_org).unwrap_or_default().to_string(),
            rate,
            stop_load.clone(),
        )
    });
    if loader.is_some() {
        std::thread::sleep(Duration::from_secs(1));
    }

    let qa = format!("{MAKER}/qa");
    let mut issued = Vec::new();
    let mut failed = 0usize;
    let issue_start = Instant::now();
    for k in 0..recalls {
        if issue_start.elapsed() > ISSUE_LIMIT {
            break;
        }
        let sent = Instant::now();
        let answer = net.gql(
            &qa,
            "mutation($i: RecallInput!) { issueRecall(input: $i) { id } }",
            json!({"i": {"gtin": GTIN, "lots": [lot(k)], "class": "I", "depth": "RETAIL",
                "reason": "Benchmark recall"}}),
        );
        let answered = Instant::now();
        match answer
            .ok()
            .and_then(|d| d["issueRecall"]["id"].as_str().map(String::from))
        {
            Some(id) => issued.push(Issued { id, sent, answered }),
            None => failed += 1,
        }
        std::thread::sleep(Duration::from_millis(args.pause_ms.min(10_000)));
    }
    let expected = issued.len() * holders.len();
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s.min(600));
    while alerts.lock().unwrap_or_else(|e| e.into_inner()).len() < expected
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop_load.store(true, Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    let odd: usize = listeners.into_iter().map(|l| l.join().unwrap_or(0)).sum();
    let load = loader.map(|l| l.join().unwrap_or_default());

    let alerts = std::mem::take(&mut *alerts.lock().unwrap_or_else(|e| e.into_inner()));
    let timed = time_alerts(&issued, &alerts, holders.len());
    let received = timed.iter().filter(|t| t.is_some()).count();
    let ms = |d: f64| d * 1000.0;
    let column = |f: &dyn Fn(&Issued, Instant) -> f64, holder: Option<usize>| {
        summary(
            timed
                .iter()
                .enumerate()
                .filter(|(i, _)| holder.is_none_or(|h| i % holders.len() == h))
                .filter_map(|(i, t)| t.map(|at| f(&issued[i / holders.len()], at)))
                .collect(),
        )
    };
    let from_sent = |r: &Issued, at: Instant| ms(at.duration_since(r.sent).as_secs_f64());
    let from_commit = |r: &Issued, at: Instant| signed_ms(r.answered, at);
    let by_holder: serde_json::Map<String, Value> = holders
        .iter()
        .enumerate()
        .map(|(h, (org, _))| {
            (
                org.to_string(),
                json!({"from_sent": column(&from_sent, Some(h)), "from_commit": column(&from_commit, Some(h))}),
            )
        })
        .collect();
    Ok(json!({
        "bench": "recall",
        "peers": net.peers.len(),
        "holders": holders.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "setup_seconds": round(setup_seconds),
        "recalls": issued.len(),
        "recalls_failed": failed,
        "issue_ms": summary(issued.iter().map(|r| ms(r.answered.duration_since(r.sent).as_secs_f64())).collect()),
        "alerts_expected": expected,
        "alerts_received": received,
        "alerts_missed": expected - received,
        "alerts_unexpected": alerts.len() - received + odd,
        "alert_ms_from_sent": column(&from_sent, None),
        "alert_ms_from_commit": column(&from_commit, None),
        "by_holder": by_holder,
        "load": load.map(|(committed, failed, seconds)| json!({
            "peer_org": load_org,
            "offered_events_per_second": rate,
            "committed": committed,
            "failed": failed,
            "committed_per_second": round(committed as f64 / seconds),
        })),
        "command": format!(
            "pedigree bench recall --peers {} --recalls {recalls} --pause-ms {} --load {rate} --timeout-s {}",
            net.peers.len(), args.pause_ms, args.timeout_s
        ),
    }))
}

/// The first arrival of every (recall, holder) pair, indexed `recall * holders + holder`.
fn time_alerts(issued: &[Issued], alerts: &[Alert], holders: usize) -> Vec<Option<Instant>> {
    let index: HashMap<&str, usize> = issued
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut timed = vec![None; issued.len() * holders];
    for a in alerts {
        if let Some(i) = index.get(a.recall.as_str()) {
            let slot: &mut Option<Instant> = &mut timed[i * holders + a.holder];
            if slot.is_none_or(|t| a.at < t) {
                *slot = Some(a.at);
            }
        }
    }
    timed
}

/// Milliseconds from `from` to `to`, negative when `to` came first.
fn signed_ms(from: Instant, to: Instant) -> f64 {
    match to.checked_duration_since(from) {
        Some(d) => d.as_secs_f64() * 1000.0,
        None => -(from.duration_since(to).as_secs_f64() * 1000.0),
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Count, nearest-rank p50/p95/p99 and max of some milliseconds (null when there are none).
fn summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| (!ms.is_empty()).then(|| round(percentile(&ms, p)));
    json!({
        "count": ms.len(),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ms.last().copied().map(round),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_nearest_rank_percentiles_and_the_max() {
        let s = summary((1..=200).rev().map(f64::from).collect());
        assert_eq!(
            s,
            json!({"count": 200, "p50": 100.0, "p95": 190.0, "p99": 198.0, "max": 200.0})
        );
        let one = summary(vec![-1.234]);
        assert_eq!(
            one,
            json!({"count": 1, "p50": -1.23, "p95": -1.23, "p99": -1.23, "max": -1.23})
        );
        let none = summary(Vec::new());
        assert_eq!(
            none,
            json!({"count": 0, "p50": null, "p95": null, "p99": null, "max": null})
        );
    }

    #[test]
    fn alerts_are_matched_to_their_recall_and_holder_first_arrival_wins() {
        let t = Instant::now();
        let later = |ms| t + Duration::from_millis(ms);
        let issued: Vec<Issued> = ["a", "b"]
            .iter()
            .map(|id| Issued {
                id: id.to_string(),
                sent: t,
                answered: t,
            })
            .collect();
        let alert = |holder, recall: &str, ms| Alert {
            holder,
            recall: recall.into(),
            at: later(ms),
        };
        let alerts = [
            alert(1, "a", 9),
            alert(1, "a", 5),
            alert(0, "b", 7),
            alert(0, "other", 1),
        ];
        let timed = time_alerts(&issued, &alerts, 2);
        assert_eq!(timed, vec![None, Some(later(5)), Some(later(7)), None]);
        assert_eq!(signed_ms(later(5), t), -5.0);
        assert_eq!(signed_ms(t, later(5)), 5.0);
    }
}
