//! A peer's data directory and its `peer.toml`: who the peer is, where it listens, where
//! its keys and store are, and how its orderer cuts blocks.

use anyhow::{Context, Result, bail};
use ledger::{ActorId, CutPolicy, PeerId, SecretKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file name of the config inside a data directory.
pub const CONFIG_FILE: &str = "peer.toml";

/// `peer.toml`. Relative paths are relative to the data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// This peer's id in the consortium config.
    pub peer_id: PeerId,
    /// Address to listen on, e.g. `127.0.0.1:7800` (port 0 picks a free one).
    pub listen: String,
    /// The peer's own key (orders and signs blocks), PKCS#8 PEM.
    pub key_file: PathBuf,
    /// Folder of custodial actor keys (`<org>__<name>.pem`) this peer signs for.
    #[serde(default)]
    pub actor_keys_dir: Option<PathBuf>,
    /// Where the ledger lives.
    pub store: StoreConfig,
    /// How blocks are cut.
    #[serde(default)]
    pub orderer: OrdererConfig,
    /// The off-chain EMR store (a hospital peer's documents); none: this peer keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emr: Option<EmrConfig>,
    /// How this peer talks to the others (`orderer.kind = "raft"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkConfig>,
}

/// `[emr]`: where a hospital peer keeps EMR documents, sealed under the key in `key_file`
/// (64 hex digits, created by `pedigree init`, never logged).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmrConfig {
    /// The SQLite file of the `emr` table.
    pub path: PathBuf,
    /// The sealing key.
    pub key_file: PathBuf,
}

impl EmrConfig {
    /// The layout `pedigree init` writes.
    pub fn standard() -> Self {
        Self {
            path: "emr.sqlite".into(),
            key_file: "keys/emr.key".into(),
        }
    }
}

/// `[network]`: the raft orderer's settings. The voters, the other peers and their
/// addresses come from the consortium config; `endpoints` overrides addresses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The raft log and vote (default `raft.sqlite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft_file: Option<PathBuf>,
    /// Leader heartbeat in milliseconds (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<u64>,
    /// Election timeout range in milliseconds (default `[1000, 2000]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election_timeout_ms: Option<(u64, u64)>,
    /// Raft log entries between snapshots (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_every: Option<u64>,
    /// Peer addresses replacing the consortium config's, by peer id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints: BTreeMap<PeerId, String>,
}

/// The store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// Embedded SQLite file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A PostgreSQL database (`kind = "postgres"`).
    Postgres {
        /// Connection URL, e.g. `postgres://pedigree@db.example:5432/ledger`.
        url: String,
        /// Schema to keep the tables in (created when missing); default: `public`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
    },
}

/// The orderer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdererConfig {
    /// `solo`: this process orders its own blocks; `raft`: the consortium's voter peers
    /// order them together (see `[network]`).
    pub kind: String,
    /// Most events per block.
    pub max_events: usize,
    /// Longest an event waits for its block, in milliseconds.
    pub max_wait_ms: u64,
}

impl Default for OrdererConfig {
    fn default() -> Self {
        let p = CutPolicy::default();
        Self {
            kind: "solo".into(),
            max_events: p.max_events,
            max_wait_ms: p.max_wait.as_millis() as u64,
        }
    }
}

impl OrdererConfig {
    /// The cut policy.
    pub fn policy(&self) -> CutPolicy {
        CutPolicy {
            max_events: self.max_events.max(1),
            max_wait: Duration::from_millis(self.max_wait_ms),
        }
    }
}

/// A data directory with its parsed config.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The directory.
    pub root: PathBuf,
    /// Its config.
    pub config: PeerConfig,
}

impl DataDir {
    /// Reads `DIR/peer.toml`.
    pub fn open(root: &Path) -> Result<Self> {
        Self::read(root, &root.join(CONFIG_FILE))
    }

    fn read(root: &Path, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read {} (run `pedigree init` to create a data directory)",
                path.display()
            )
        })?;
        let config: PeerConfig = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid peer config", path.display()))?;
        if config.orderer.kind != "solo" && config.orderer.kind != "raft" {
            bail!(
                "orderer kind {:?} is unknown; use \"solo\" or \"raft\"",
                config.orderer.kind
            );
        }
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    /// Reads a peer config file anywhere (`serve --config FILE`); its folder is the data
    /// directory that relative paths start from.
    pub fn open_config(file: &Path) -> Result<Self> {
        let root = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::read(root, file)
    }

    /// The raft settings from `[orderer]` and `[network]`.
    pub fn raft_settings(&self) -> raft_orderer::Settings {
        let net = self.config.network.clone().unwrap_or_default();
        let file = net
            .raft_file
            .clone()
            .unwrap_or_else(|| "raft.sqlite".into());
        let mut s = raft_orderer::Settings::new(self.path(&file));
        s.policy = self.config.orderer.policy();
        s.endpoints = net.endpoints;
        if let Some(h) = net.heartbeat_ms {
            s.heartbeat_ms = h;
        }
        if let Some(e) = net.election_timeout_ms {
            s.election_timeout_ms = e;
        }
        if let Some(n) = net.snapshot_every {
            s.snapshot_every = n;
        }
        s
    }

    /// True when `DIR/peer.toml` exists.
    pub fn exists(root: &Path) -> bool {
        root.join(CONFIG_FILE).exists()
    }

    /// Resolves a path from the config.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The SQLite file, when the store is SQLite.
    pub fn store_path(&self) -> Option<PathBuf> {
        match &self.config.store {
            StoreConfig::Sqlite { path } => Some(self.path(path)),
            StoreConfig::Postgres { .. } => None,
        }
    }

    /// The peer key.
    pub fn peer_key(&self) -> Result<SecretKey> {
        read_key(&self.path(&self.config.key_file))
    }

    /// Custodial actor keys, by actor id.
    pub fn actor_keys(&self) -> Result<BTreeMap<ActorId, SecretKey>> {
        let mut out = BTreeMap::new();
        let Some(dir) = &self.config.actor_keys_dir else {
            return Ok(out);
        };
        let dir = self.path(dir);
        if !dir.exists() {
            return Ok(out);
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().and_then(|e| e.to_str()) != Some("pem") {
                continue;
            }
            let actor = ActorId::new(stem.replace("__", "/"))
                .with_context(|| format!("{} is not named after an actor", path.display()))?;
            out.insert(actor, read_key(&path)?);
        }
        Ok(out)
    }

    /// Writes the config.
    pub fn write(root: &Path, config: &PeerConfig) -> Result<()> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let text = toml::to_string_pretty(config).context("serialising peer.toml")?;
        std::fs::write(root.join(CONFIG_FILE), text).context("writing peer.toml")
    }
}

/// Reads a PKCS#8 PEM key file.
pub fn read_key(path: &Path) -> Result<SecretKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    SecretKey::from_pem(&pem)
        .with_context(|| format!("{} is not an ed25519 PKCS#8 PEM key", path.display()))
}

/// Writes a key file readable by its owner only.
pub fn write_key(path: &Path, key: &SecretKey) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, key.to_pem())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The file name for an actor's custodial key.
pub fn actor_key_file(actor: &ActorId) -> String {
    format!("{}.pem", actor.as_str().replace('/', "__"))
}
