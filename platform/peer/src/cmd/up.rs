//! `pedigree up --demo`: the demo consortium as separate peer processes on this machine,
//! one per organisation, on free loopback ports. The first organisations vote (three by
//! default), the others replicate as learners. Each peer holds only its own
//! organisation's custodial keys and tokens; `DIR/demo-credentials.json` lists every
//! peer's URL and every actor's token with the URL of its own peer. On a network this run
//! creates, `up` then writes the demo history of `serve --demo` (unless `--no-seed`), each
//! event posted at its organisation's own peer. Ctrl-C (or SIGTERM) stops every peer
//! cleanly; running it again keeps the chain (and writes nothing) and picks new ports.

use crate::config::{
    DataDir, EmrConfig, NetworkConfig, OrdererConfig, PeerConfig, StoreConfig, actor_key_file,
    write_key,
};
use crate::node::{modules, open_store};
use crate::seed::Committed;
use anyhow::{Context, Result, bail};
use clap::Args;
use fixtures::{Demo, PeerLayout, demo};
use ledger::{ActorId, Consortium, Envelope, Ledger, PeerId, Signer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `pedigree up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Run the demo consortium (the only consortium `up` knows).
    #[arg(long, required = true)]
    pub demo: bool,
    /// Where the peers' data directories go (one folder per organisation).
    #[arg(long, default_value = "pedigree-network")]
    pub data_dir: PathBuf,
    /// How many organisations vote, the first ones in member order (at least 1).
    #[arg(long, default_value_t = 3)]
    pub voters: usize,
    /// Run peers for the first N organisations only (default: all eight).
    #[arg(long)]
    pub peers: Option<usize>,
    /// Create the data directories and stop, without starting the peers (nor writing
    /// the demo history).
    #[arg(long)]
    pub init_only: bool,
    /// Start a new network on an empty chain instead of writing the demo history.
    #[arg(long)]
    pub no_seed: bool,
}

/// `DIR/network.json`: the peers `up` made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Network {
    /// The peers in member order.
    pub peers: Vec<NetworkPeer>,
}

/// One peer of the demo network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkPeer {
    /// Peer id.
    pub peer: String,
    /// Its organisation.
    pub org: String,
    /// Its data directory, relative to the network folder.
    pub dir: String,
    /// Whether it votes.
    pub voter: bool,
    /// Its base URL.
    pub url: String,
}

const NETWORK_FILE: &str = "network.json";
const CREDENTIALS_FILE: &str = "demo-credentials.json";

/// Runs `pedigree up`.
pub fn run(args: UpArgs) -> Result<()> {
    // Only a network this run creates gets the demo history: an existing one holds it
    // already (or was started empty on purpose).
    let (network, keys) = if args.data_dir.join(NETWORK_FILE).exists() {
        println!(
            "pedigree: starting the network in {} again; its chain is kept as it is",
            args.data_dir.display()
        );
        (reuse(&args.data_dir)?, None)
    } else {
        let (network, keys) = create(&args)?;
        (network, Some(keys))
    };
    write_credentials(&args.data_dir, &network)?;
    if args.init_only {
        println!(
            "initialised {} peers in {}",
            network.peers.len(),
            args.data_dir.display()
        );
        return Ok(());
    }
    let seed = keys.filter(|_| !args.no_seed);
    start_all(&args.data_dir, &network, seed)
}

fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .context("finding free loopback ports")?;
    Ok(listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect())
}

fn peer_config(peer: &PeerId, listen: &str, endpoints: &BTreeMap<PeerId, String>) -> PeerConfig {
    PeerConfig {
        peer_id: peer.clone(),
        listen: listen.into(),
        key_file: "keys/peer.pem".into(),
        actor_keys_dir: Some("keys/actors".into()),
        store: StoreConfig::Sqlite {
            path: "ledger.sqlite".into(),
        },
        orderer: OrdererConfig {
            kind: "raft".into(),
            ..OrdererConfig::default()
        },
        network: Some(NetworkConfig {
            endpoints: endpoints.clone(),
            ..NetworkConfig::default()
        }),
        emr: Some(EmrConfig::standard()),
    }
}

/// Lays out a new network; returns it and the demo keys (which sign the demo history).
fn create(args: &UpArgs) -> Result<(Network, Demo)> {
    let count = args.peers.unwrap_or(8).clamp(1, 8);
    if args.voters == 0 || args.voters > count {
        bail!("--voters must be between 1 and the number of peers ({count})");
    }
    let ports = free_ports(count)?;
    let mut d = demo(&PeerLayout::PerOrg {
        endpoints: BTreeMap::new(),
        voters: args.voters,
    });
    d.consortium.peers.truncate(count);
    for (p, port) in d.consortium.peers.iter_mut().zip(&ports) {
        p.endpoint = format!("http://127.0.0.1:{port}");
    }
    let genesis = d.genesis(now_ms());
    let endpoints: BTreeMap<PeerId, String> = d
        .consortium
        .peers
        .iter()
        .map(|p| (p.id.clone(), p.endpoint.clone()))
        .collect();
    let mut peers = Vec::new();
    for p in &d.consortium.peers {
        let dir = args.data_dir.join(p.org.as_str());
        if DataDir::exists(&dir) {
            bail!(
                "ALREADY_INITIALISED: {} already holds a peer",
                dir.display()
            );
        }
        let listen = p.endpoint.trim_start_matches("http://").to_string();
        write_key(&dir.join("keys/peer.pem"), &d.peer_keys[&p.id])?;
        for (actor, key) in &d.actor_keys {
            if actor.as_str().split('/').next() == Some(p.org.as_str()) {
                write_key(&dir.join("keys/actors").join(actor_key_file(actor)), key)?;
            }
        }
        let config = peer_config(&p.id, &listen, &endpoints);
        crate::cmd::init::write_emr_key(&dir, &config)?;
        DataDir::write(&dir, &config)?;
        let data = DataDir::open(&dir)?;
        Ledger::init(open_store(&data)?, modules(), genesis.clone())
            .with_context(|| format!("writing genesis for {}", p.id))?;
        crate::auth::issue_demo_tokens(
            &dir,
            &only(&d.consortium, p.org.as_str()),
            &format!("{}/graphql", p.endpoint),
        )?;
        peers.push(NetworkPeer {
            peer: p.id.to_string(),
            org: p.org.to_string(),
            dir: p.org.to_string(),
            voter: p.voter,
            url: p.endpoint.clone(),
        });
    }
    let network = Network { peers };
    write_network(&args.data_dir, &network)?;
    Ok((network, d))
}

/// The consortium with one organisation left: whose tokens a peer issues.
fn only(c: &Consortium, org: &str) -> Consortium {
    let mut c = c.clone();
    c.organizations.retain(|o| o.id.as_str() == org);
    c
}

/// An existing network on fresh ports.
fn reuse(root: &Path) -> Result<Network> {
    let path = root.join(NETWORK_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut network: Network = serde_json::from_str(&text)
        .with_context(|| format!("{} does not parse", path.display()))?;
    let ports = free_ports(network.peers.len())?;
    let mut endpoints = BTreeMap::new();
    for (p, port) in network.peers.iter_mut().zip(&ports) {
        p.url = format!("http://127.0.0.1:{port}");
        endpoints.insert(PeerId::new(p.peer.clone())?, p.url.clone());
    }
    for p in &network.peers {
        let dir = root.join(&p.dir);
        let mut data = DataDir::open(&dir)?;
        data.config.listen = p.url.trim_start_matches("http://").to_string();
        let mut net = data.config.network.clone().unwrap_or_default();
        net.endpoints = endpoints.clone();
        data.config.network = Some(net);
        DataDir::write(&dir, &data.config)?;
    }
    write_network(root, &network)?;
    Ok(network)
}

fn write_network(root: &Path, network: &Network) -> Result<()> {
    std::fs::write(
        root.join(NETWORK_FILE),
        serde_json::to_string_pretty(network)?,
    )
    .context("writing network.json")
}

/// `DIR/demo-credentials.json`: every peer and every actor's token with its own peer.
fn write_credentials(root: &Path, network: &Network) -> Result<()> {
    let mut actors = Vec::new();
    for p in &network.peers {
        let path = root.join(&p.dir).join(CREDENTIALS_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let own: crate::auth::DemoCredentials = serde_json::from_str(&text)?;
        for a in own.actors {
            let mut v = serde_json::to_value(&a)?;
            v["peer"] = p.peer.clone().into();
            v["graphql"] = format!("{}/graphql", p.url).into();
            actors.push(v);
        }
    }
    let body = serde_json::json!({
        "graphql": network.peers.first().map(|p| format!("{}/graphql", p.url)),
        "peers": network.peers.iter().map(|p| serde_json::json!({
            "peer": p.peer, "org": p.org, "voter": p.voter,
            "url": p.url, "graphql": format!("{}/graphql", p.url),
        })).collect::<Vec<_>>(),
        "actors": actors,
    });
    let path = root.join(CREDENTIALS_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(&body)?)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// What wakes `up` while its peers run.
enum Wake {
    /// Ctrl-C or SIGTERM (or the handler could not be installed).
    Signal(Result<()>),
    /// Writing the demo history ended.
    Seeded(Result<()>),
}

fn start_all(root: &Path, network: &Network, seed: Option<Demo>) -> Result<()> {
    // Listen for Ctrl-C and SIGTERM from the start: a stop asked for while peers start or
    // the history is written still stops every peer.
    let (wake_tx, wake) = std::sync::mpsc::channel::<Wake>();
    let signal = wake_tx.clone();
    std::thread::spawn(move || drop(signal.send(Wake::Signal(wait_for_signal()))));
    let exe = std::env::current_exe().context("finding the pedigree binary")?;
    let mut children: Vec<(String, Child)> = Vec::new();
    for p in &network.peers {
        if let Ok(Wake::Signal(asked)) = wake.try_recv() {
            println!("pedigree: stopping {} peers", children.len());
            stop_all(&mut children);
            return asked;
        }
        let dir = root.join(&p.dir);
        let log = std::fs::File::create(dir.join("peer.log")).context("creating peer.log")?;
        let mut child = Command::new(&exe)
            .arg("serve")
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", p.peer))?;
        let stdout = child.stdout.take().context("the peer's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        children.push((p.peer.clone(), child));
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            stop_all(&mut children);
            bail!(
                "{} did not start within 60 s; see {}",
                p.peer,
                dir.join("peer.log").display()
            );
        }
        println!(
            "pedigree: {} ({}{}) listening on {}",
            p.peer,
            p.org,
            if p.voter { ", voter" } else { "" },
            p.url
        );
    }
    if let Some(keys) = seed {
        // On a thread of its own, so that a signal meanwhile is answered at once.
        let (seeded, network) = (wake_tx.clone(), network.clone());
        std::thread::spawn(move || drop(seeded.send(Wake::Seeded(write_history(&network, &keys)))));
        match wake.recv() {
            Ok(Wake::Seeded(Ok(()))) => {}
            Ok(Wake::Seeded(Err(e))) => {
                stop_all(&mut children);
                bail!(
                    "writing the demo history failed, so the peers were stopped: {e:#}. The network in {} \
                     may hold part of the history; remove the folder and run `pedigree up --demo` again",
                    root.display()
                );
            }
            Ok(Wake::Signal(asked)) => {
                println!(
                    "pedigree: stopping {} peers while the demo history was being written",
                    children.len()
                );
                stop_all(&mut children);
                return asked;
            }
            Err(_) => unreachable!("this function holds a sender"),
        }
    }
    println!(
        "pedigree: {} peers up; tokens and URLs in {}; Ctrl-C stops them all",
        children.len(),
        root.join(CREDENTIALS_FILE).display()
    );
    use std::io::Write;
    std::io::stdout().flush().ok();
    let asked = loop {
        match wake.recv() {
            Ok(Wake::Signal(asked)) => break asked,
            Ok(Wake::Seeded(_)) => {}
            Err(_) => unreachable!("this function holds a sender"),
        }
    };
    println!("pedigree: stopping {} peers", children.len());
    stop_all(&mut children);
    asked
}

/// How long `up` waits for a leader, and for every peer to catch up with a step.
const NETWORK_WAIT: Duration = Duration::from_secs(60);

/// Waits for a leader, then writes the demo history at the peers.
fn write_history(network: &Network, keys: &Demo) -> Result<()> {
    let mut peers = AtPeers::new(network, keys);
    let leader = wait_for_leader(&peers.all, NETWORK_WAIT)?;
    println!("pedigree: {leader} leads; writing the demo history");
    let events = crate::seed::write(&mut peers, |n, total, step, done| {
        let events = done.results.len();
        println!(
            "pedigree: demo {n}/{total}: {} ({events} event{}, chain at height {})",
            step.what,
            if events == 1 { "" } else { "s" },
            done.height
        );
    })?;
    println!(
        "pedigree: demo history written: {events} events, every peer at height {}",
        peers.height
    );
    Ok(())
}

/// Waits (at most `limit`) until every peer at `urls` knows the leader (learners hear of
/// it once they have joined); returns the leader's id.
pub(crate) fn wait_for_leader(urls: &[String], limit: Duration) -> Result<String> {
    let deadline = Instant::now() + limit;
    loop {
        let leaders: Vec<Option<String>> = urls
            .iter()
            .map(|u| {
                let status: serde_json::Value = ureq::get(&format!("{u}/raft/status"))
                    .timeout(Duration::from_secs(5))
                    .call()
                    .ok()?
                    .into_json()
                    .ok()?;
                status["leader"].as_str().map(str::to_string)
            })
            .collect();
        if let Some(Some(leader)) = leaders.first()
            && leaders.iter().all(Option::is_some)
        {
            return Ok(leader.clone());
        }
        if Instant::now() > deadline {
            bail!(
                "the peers did not all know a leader within {} s",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Commits the demo history over HTTP: each event is posted (`POST /events`) at the peer
/// of its actor's organisation, or at the first peer when that organisation runs none
/// (it forwards the events to the leader), and a step is done once every peer holds it,
/// so the peer that admits the next step already knows what it builds on.
struct AtPeers {
    /// Each organisation's peer URL.
    urls: BTreeMap<String, String>,
    /// Every peer's URL, in member order.
    all: Vec<String>,
    signers: BTreeMap<ActorId, Arc<Signer>>,
    agent: ureq::Agent,
    /// The height every peer has reached.
    height: u64,
}

impl AtPeers {
    fn new(network: &Network, keys: &Demo) -> Self {
        let signers = keys
            .actor_keys
            .keys()
            .map(|a| (a.clone(), Arc::new(keys.signer(a.as_str()))))
            .collect();
        Self {
            urls: network
                .peers
                .iter()
                .map(|p| (p.org.clone(), p.url.clone()))
                .collect(),
            all: network.peers.iter().map(|p| p.url.clone()).collect(),
            signers,
            agent: ureq::AgentBuilder::new()
                .timeout(crate::http::COMMIT_WAIT + Duration::from_secs(5))
                .build(),
            height: 0,
        }
    }

    fn get(&self, url: &str) -> Option<serde_json::Value> {
        self.agent.get(url).call().ok()?.into_json().ok()
    }

    /// Waits until every peer's chain is at `height` or above.
    fn wait_for_height(&mut self, height: u64) -> Result<()> {
        let deadline = Instant::now() + NETWORK_WAIT;
        loop {
            let heights: Vec<Option<u64>> = self
                .all
                .iter()
                .map(|u| self.get(&format!("{u}/chain"))?["height"].as_u64())
                .collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= height)) {
                self.height = height;
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "not every peer reached height {height} within {} s (heights: {heights:?})",
                    NETWORK_WAIT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Posts `events` to `url` and reads each one's outcome.
    fn post(&self, url: &str, events: &[&Envelope]) -> Result<Committed> {
        let body: Vec<serde_json::Value> = events.iter().map(|e| e.to_json_value()).collect();
        let answer: serde_json::Value =
            match self.agent.post(&format!("{url}/events")).send_json(body) {
                Ok(r) => r.into_json().context("reading the answer")?,
                Err(ureq::Error::Status(status, r)) => {
                    let body: serde_json::Value = r.into_json().unwrap_or_default();
                    let refused = body["events"].as_array().and_then(|all| {
                        all.iter()
                            .zip(events)
                            .find(|(a, _)| a["status"] == "refused")
                    });
                    match refused {
                        Some((a, e)) => bail!(
                            "{url} refused the {} event of {}: {} {}",
                            e.kind(),
                            e.actor(),
                            a["code"].as_str().unwrap_or("?"),
                            a["message"].as_str().unwrap_or("")
                        ),
                        None => bail!(
                            "{url} answered {status}: {} {}",
                            body["code"].as_str().unwrap_or("?"),
                            body["message"].as_str().unwrap_or("")
                        ),
                    }
                }
                Err(e) => bail!("posting to {url} failed: {e}"),
            };
        let outcomes = answer["events"]
            .as_array()
            .context("the answer lists no events")?;
        let mut results = Vec::with_capacity(events.len());
        for (a, e) in outcomes.iter().zip(events) {
            match a["status"].as_str() {
                Some("committed") => results.push((e.id(), None)),
                Some("kept_refused") => results.push((
                    e.id(),
                    Some(a["code"].as_str().unwrap_or("REFUSED").to_string()),
                )),
                _ => bail!(
                    "{url} did not commit the {} event of {}: {} {}",
                    e.kind(),
                    e.actor(),
                    a["code"].as_str().unwrap_or("?"),
                    a["message"].as_str().unwrap_or("")
                ),
            }
        }
        let height = answer["block_height"]
            .as_u64()
            .context("the answer names no block")?;
        Ok(Committed { height, results })
    }
}

impl crate::seed::Committer for AtPeers {
    fn signer(&self, actor: &ActorId) -> Result<Arc<Signer>> {
        self.signers
            .get(actor)
            .cloned()
            .with_context(|| format!("the demo holds no key for {actor}"))
    }

    fn commit(&mut self, events: Vec<Envelope>) -> Result<Committed> {
        // One request per peer, all at once: a step's events do not depend on each other.
        let mut by_peer: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            let url = self
                .urls
                .get(e.org().as_str())
                .or(self.all.first())
                .context("the network has no peer")?;
            by_peer.entry(url).or_default().push(i);
        }
        let this = &*self;
        let answers = std::thread::scope(|s| {
            let handles: Vec<_> = by_peer
                .iter()
                .map(|(url, at)| {
                    let batch: Vec<&Envelope> = at.iter().map(|i| &events[*i]).collect();
                    s.spawn(move || this.post(url, &batch))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a poster panicked")))
                })
                .collect::<Vec<_>>()
        });
        let mut results = vec![None; events.len()];
        let mut height = 0;
        for ((_, at), answer) in by_peer.iter().zip(answers) {
            let answer = answer?;
            height = height.max(answer.height);
            for (i, r) in at.iter().zip(answer.results) {
                results[*i] = Some(r);
            }
        }
        let results = results
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .context("a peer answered for fewer events than it was sent")?;
        self.wait_for_height(height)?;
        Ok(Committed { height, results })
    }
}

fn wait_for_signal() -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    rt.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
    .context("waiting for Ctrl-C")
}

/// SIGTERM to every peer, then up to 15 s for each to finish.
fn stop_all(children: &mut [(String, Child)]) {
    for (_, child) in children.iter() {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    for (peer, child) in children.iter_mut() {
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    eprintln!("pedigree: {peer} did not stop in time; killing it");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
