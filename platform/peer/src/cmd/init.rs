//! `pedigree init`: a new data directory with keys, `peer.toml` and the genesis block,
//! either for the demo consortium or for a real consortium config.

use crate::config::{
    DataDir, EmrConfig, OrdererConfig, PeerConfig, StoreConfig, actor_key_file, read_key, write_key,
};
use crate::node::{modules, open_store};
use anyhow::{Context, Result, bail};
use clap::Args;
use fixtures::{PeerLayout, demo};
use ledger::{ActorId, Block, BlockHash, Consortium, Ledger, PeerId, SecretKey};
use std::path::{Path, PathBuf};

/// Arguments of `pedigree init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Create the demo consortium (one peer holding every demo member's keys).
    #[arg(long, conflicts_with_all = ["consortium", "join"])]
    pub demo: bool,
    /// The consortium config (JSON) that goes into genesis.
    #[arg(long, required_unless_present_any = ["demo", "join"])]
    pub consortium: Option<PathBuf>,
    /// Join a running consortium network instead of starting one: the base URL of one of
    /// its peers (e.g. `http://peer.acme.example:7800`), from which the genesis block is
    /// fetched. The peer orders with raft; `serve` then fetches the chain and waits until a
    /// governor's `add_peer` event lists it.
    #[arg(long, conflicts_with_all = ["consortium", "admin", "admin_key"], requires = "pin")]
    pub join: Option<String>,
    /// With `--join`: the genesis block hash (64 hex digits) the consortium's operators
    /// gave you; a genesis block with any other hash is refused.
    #[arg(long, requires = "join")]
    pub pin: Option<String>,
    /// This peer's id in the consortium config.
    #[arg(long, required_unless_present = "demo")]
    pub peer_id: Option<String>,
    /// This peer's key (PKCS#8 PEM, from `pedigree keys generate`).
    #[arg(long, required_unless_present = "demo")]
    pub peer_key: Option<PathBuf>,
    /// The governor admin actor who signs genesis.
    #[arg(long, required_unless_present_any = ["demo", "join"])]
    pub admin: Option<String>,
    /// That admin's key.
    #[arg(long, required_unless_present_any = ["demo", "join"])]
    pub admin_key: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7800")]
    pub listen: String,
    /// Keep the chain in PostgreSQL at this URL instead of the embedded SQLite file
    /// (e.g. `postgres://pedigree@db.example:5432/ledger`); genesis is written there.
    #[arg(long)]
    pub database_url: Option<String>,
    /// With `--database-url`: the schema to keep the tables in (created when missing).
    #[arg(long, requires = "database_url")]
    pub schema: Option<String>,
}

impl InitArgs {
    fn store(&self) -> StoreConfig {
        match &self.database_url {
            Some(url) => StoreConfig::Postgres {
                url: url.clone(),
                schema: self.schema.clone(),
            },
            None => sqlite_store(),
        }
    }
}

fn sqlite_store() -> StoreConfig {
    StoreConfig::Sqlite {
        path: "ledger.sqlite".into(),
    }
}

/// Runs `pedigree init`.
pub fn run(args: InitArgs) -> Result<()> {
    if args.demo {
        init_demo_on(&args.data_dir, &args.listen, args.store())?;
    } else if let Some(url) = &args.join {
        return init_join(&args, url);
    } else {
        init_consortium(&args)?;
    }
    println!("initialised {}", args.data_dir.display());
    Ok(())
}

fn refuse_existing(dir: &Path) -> Result<()> {
    if DataDir::exists(dir) {
        bail!(
            "ALREADY_INITIALISED: {} already holds a peer; choose an empty directory",
            dir.display()
        );
    }
    Ok(())
}

/// A PostgreSQL database (or schema) that already holds a chain is refused before anything
/// is written, so a mistyped URL never leaves a half-made data directory behind.
fn refuse_used_database(store: &StoreConfig) -> Result<()> {
    let StoreConfig::Postgres { url, schema } = store else {
        return Ok(());
    };
    let pg = store_postgres::PgStore::open(url, schema.as_deref())
        .context("opening the PostgreSQL store")?;
    if let Some(head) = ledger::Store::head(&pg)? {
        bail!(
            "STORE_NOT_EMPTY: the PostgreSQL {} already holds a chain (height {}); give another --schema or database",
            schema
                .as_deref()
                .map_or("database".to_string(), |s| format!("schema {s}")),
            head.height
        );
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The peer id and key given on the command line, read and checked.
fn own_peer(args: &InitArgs) -> Result<(PeerId, SecretKey)> {
    let peer_id = PeerId::new(args.peer_id.clone().expect("required by clap"))?;
    let peer_key = read_key(args.peer_key.as_ref().expect("required by clap"))?;
    Ok((peer_id, peer_key))
}

fn base_config(peer_id: PeerId, listen: &str, custodial: bool, store: StoreConfig) -> PeerConfig {
    PeerConfig {
        peer_id,
        listen: listen.into(),
        key_file: "keys/peer.pem".into(),
        actor_keys_dir: custodial.then(|| "keys/actors".into()),
        store,
        orderer: OrdererConfig::default(),
        emr: Some(EmrConfig::standard()),
        network: None,
    }
}

/// Creates the EMR store's sealing key named by the config.
pub(crate) fn write_emr_key(dir: &Path, config: &PeerConfig) -> Result<()> {
    if let Some(emr) = &config.emr {
        let path = if emr.key_file.is_absolute() {
            emr.key_file.clone()
        } else {
            dir.join(&emr.key_file)
        };
        emr::Key::generate()
            .write_new(&path)
            .context("creating the EMR store key")?;
    }
    Ok(())
}

/// Creates a demo data directory: every demo actor's key is held by this one peer.
pub fn init_demo(dir: &Path, listen: &str) -> Result<()> {
    init_demo_on(dir, listen, sqlite_store())
}

/// [`init_demo`] with the chain kept in `store`.
pub fn init_demo_on(dir: &Path, listen: &str, store: StoreConfig) -> Result<()> {
    refuse_existing(dir)?;
    refuse_used_database(&store)?;
    let d = demo(&PeerLayout::Single {
        endpoint: format!("http://{listen}"),
    });
    let peer = d.consortium.peers[0].clone();
    let config = base_config(peer.id.clone(), listen, true, store);
    write_key(&dir.join("keys/peer.pem"), &d.peer_keys[&peer.id])?;
    for (actor, key) in &d.actor_keys {
        write_key(&dir.join("keys/actors").join(actor_key_file(actor)), key)?;
    }
    write_emr_key(dir, &config)?;
    DataDir::write(dir, &config)?;
    let data = DataDir::open(dir)?;
    Ledger::init(open_store(&data)?, modules(), d.genesis(now_ms())).context("writing genesis")?;
    crate::auth::issue_demo_tokens(dir, &d.consortium, &format!("http://{listen}/graphql"))?;
    Ok(())
}

fn init_consortium(args: &InitArgs) -> Result<()> {
    let dir = &args.data_dir;
    refuse_existing(dir)?;
    refuse_used_database(&args.store())?;
    let path = args.consortium.as_ref().expect("required by clap");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let consortium: Consortium = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a consortium config", path.display()))?;
    consortium
        .check()
        .map_err(|e| anyhow::anyhow!("the consortium config is not coherent: {e}"))?;
    let (peer_id, peer_key) = own_peer(args)?;
    let peer = consortium
        .peer(&peer_id)
        .with_context(|| format!("peer {peer_id} is not in the consortium config"))?;
    if peer.public_key != peer_key.public() {
        bail!("the peer key does not match peer {peer_id}'s public key in the consortium config");
    }
    let admin = ActorId::new(args.admin.clone().expect("required by clap"))?;
    let admin_key = read_key(args.admin_key.as_ref().expect("required by clap"))?;
    let directory = consortium.directory();
    let (org, _, actor) = directory
        .actor(&admin)
        .with_context(|| format!("{admin} is not an actor of the consortium"))?;
    if actor.public_key != admin_key.public() {
        bail!("the admin key does not match {admin}'s public key in the consortium config");
    }
    let genesis = ledger::genesis::genesis_block(
        &consortium,
        (&admin, org, &admin_key),
        (&peer_id, &peer_key),
        now_ms(),
    );
    write_key(&dir.join("keys/peer.pem"), &peer_key)?;
    let config = base_config(peer_id, &args.listen, false, args.store());
    write_emr_key(dir, &config)?;
    DataDir::write(dir, &config)?;
    let data = DataDir::open(dir)?;
    Ledger::init(open_store(&data)?, modules(), genesis).context("writing genesis")?;
    Ok(())
}

/// `init --join URL --pin HASH`: genesis comes from a running peer and must have the
/// pinned hash; everything after it is fetched, and checked, when the peer first serves.
fn init_join(args: &InitArgs, url: &str) -> Result<()> {
    let dir = &args.data_dir;
    refuse_existing(dir)?;
    refuse_used_database(&args.store())?;
    let pin: BlockHash = args
        .pin
        .as_deref()
        .expect("required by clap")
        .parse()
        .map_err(|_| {
            anyhow::anyhow!("BAD_PIN: --pin takes the genesis block hash, 64 hex digits")
        })?;
    let (peer_id, peer_key) = own_peer(args)?;
    let genesis = fetch_genesis(url)?;
    let hash = genesis.hash();
    if hash != pin {
        bail!(
            "GENESIS_MISMATCH: the genesis block {url} serves has hash {}, not the pinned {}; nothing was written",
            hash.to_hex(),
            pin.to_hex()
        );
    }
    let consortium = genesis
        .events
        .first()
        .map(ledger::consortium::genesis_config)
        .transpose()
        .map_err(|r| anyhow::anyhow!("the genesis block holds no consortium config: {r}"))?
        .context("the genesis block holds no events")?;
    let listed = consortium.peer(&peer_id).map(|p| p.public_key);
    if listed.is_some_and(|k| k != peer_key.public()) {
        bail!(
            "PEER_KEY_MISMATCH: genesis lists peer {peer_id} with another public key than {}",
            args.peer_key.as_ref().expect("required by clap").display()
        );
    }
    write_key(&dir.join("keys/peer.pem"), &peer_key)?;
    let mut config = base_config(peer_id.clone(), &args.listen, false, args.store());
    config.orderer.kind = "raft".into();
    write_emr_key(dir, &config)?;
    DataDir::write(dir, &config)?;
    let data = DataDir::open(dir)?;
    Ledger::init(open_store(&data)?, modules(), genesis)
        .context("the genesis block does not verify")?;
    println!(
        "initialised {}: consortium {:?}, genesis {}, peer {peer_id} (public key {})",
        dir.display(),
        consortium.name,
        hash.to_hex(),
        peer_key.public()
    );
    if listed.is_none() {
        println!(
            "genesis does not list peer {peer_id}: a governor's admin adds it (`pedigree consortium add-peer`) before it can replicate; `pedigree serve --data-dir {}` fetches the chain and waits for that",
            dir.display()
        );
    }
    Ok(())
}

/// `GET URL/blocks/0`.
fn fetch_genesis(url: &str) -> Result<Block> {
    let url = format!("{}/blocks/0", url.trim_end_matches('/'));
    let answer = ureq::get(&url)
        .timeout(std::time::Duration::from_secs(30))
        .call()
        .map_err(|e| {
            anyhow::anyhow!("PEER_UNREACHABLE: cannot fetch the genesis block from {url}: {e}")
        })?;
    let value: serde_json::Value = answer
        .into_json()
        .with_context(|| format!("{url} did not answer with JSON"))?;
    Block::from_json_value(value)
        .map_err(|r| anyhow::anyhow!("{url} did not answer with a block: {r}"))
}
