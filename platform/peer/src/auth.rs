//! Bearer tokens: each maps to one actor (and so to its organisation and roles). The data
//! directory keeps only the SHA-256 of each token (`DIR/tokens.json`); the token itself
//! is shown once, by `pedigree token create`, or written to `demo-credentials.json` for
//! the demo. Tokens are never logged.

use crate::http::error;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use anyhow::{Context, Result};
use ledger::{ActorId, Ledger, PatientRef};
use parking_lot::RwLock;
use pedigree_graphql::{Caller, PatientCaller};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Token hashes, in the data directory.
pub const TOKENS_FILE: &str = "tokens.json";
/// The demo's tokens in clear, for people and scripts acting as demo members.
pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TokenEntry {
    /// SHA-256 of the token, lowercase hex.
    sha256: String,
    /// The actor; for a patient's token, the hospital actor who issued it and signs the
    /// patient's grants and revocations.
    actor: ActorId,
    /// Set on a patient's token: who the patient is on the ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patient: Option<PatientRef>,
    created_at: i64,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn read_file(path: &Path) -> Result<TokenFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a token file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Creates tokens for `actors`, records their hashes in `DIR/tokens.json` and returns
/// them in clear, in order.
pub fn create(dir: &Path, actors: &[ActorId]) -> Result<Vec<String>> {
    let path = dir.join(TOKENS_FILE);
    let mut file = read_file(&path)?;
    let mut out = Vec::with_capacity(actors.len());
    for actor in actors {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("pdg_{}", hex::encode(bytes));
        file.tokens.push(TokenEntry {
            sha256: hash(&token),
            actor: actor.clone(),
            patient: None,
            created_at: now_ms(),
        });
        out.push(token);
    }
    write_private(&path, &serde_json::to_string_pretty(&file)?)?;
    Ok(out)
}

/// Creates a patient's token: it reads only that patient's consents and index, and their
/// grants and revocations are signed by `via` (a hospital actor of this peer).
pub fn create_patient(dir: &Path, via: &ActorId, patient: &PatientRef) -> Result<String> {
    let path = dir.join(TOKENS_FILE);
    let mut file = read_file(&path)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("pdg_{}", hex::encode(bytes));
    file.tokens.push(TokenEntry {
        sha256: hash(&token),
        actor: via.clone(),
        patient: Some(patient.clone()),
        created_at: now_ms(),
    });
    write_private(&path, &serde_json::to_string_pretty(&file)?)?;
    Ok(token)
}

/// One demo actor in `demo-credentials.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoActor {
    /// Actor id, e.g. `city-pharmacy/pharmacist`.
    pub id: String,
    /// Organisation id.
    pub org: String,
    /// The actor's first role (`roles` has them all).
    pub role: String,
    /// Every role of the actor.
    pub roles: Vec<String>,
    /// Bearer token.
    pub token: String,
}

/// `demo-credentials.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoCredentials {
    /// The GraphQL endpoint.
    pub graphql: String,
    /// Every demo actor with its token.
    pub actors: Vec<DemoActor>,
}

/// Gives every demo actor a token and writes `demo-credentials.json` for `graphql`.
pub fn issue_demo_tokens(dir: &Path, consortium: &ledger::Consortium, graphql: &str) -> Result<()> {
    let actors: Vec<(&ledger::Organization, &ledger::Actor)> = consortium
        .organizations
        .iter()
        .flat_map(|o| o.actors.iter().map(move |a| (o, a)))
        .collect();
    let ids: Vec<ActorId> = actors.iter().map(|(_, a)| a.id.clone()).collect();
    let tokens = create(dir, &ids)?;
    let credentials = DemoCredentials {
        graphql: graphql.to_string(),
        actors: actors
            .iter()
            .zip(tokens)
            .map(|((o, a), token)| DemoActor {
                id: a.id.to_string(),
                org: o.id.to_string(),
                role: a.roles.first().cloned().unwrap_or_default(),
                roles: a.roles.clone(),
                token,
            })
            .collect(),
    };
    write_private(
        &dir.join(CREDENTIALS_FILE),
        &serde_json::to_string_pretty(&credentials)?,
    )
}

/// Points `demo-credentials.json` (when there is one) at the address really bound.
pub fn update_demo_credentials(dir: &Path, graphql: &str) -> Result<()> {
    let path = dir.join(CREDENTIALS_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let mut c: DemoCredentials = serde_json::from_str(&text)
        .with_context(|| format!("{} is not demo credentials", path.display()))?;
    c.graphql = graphql.to_string();
    write_private(&path, &serde_json::to_string_pretty(&c)?)
}

/// Whom a token stands for: an actor, or a patient through the actor who issued it.
type Holder = (ActorId, Option<PatientRef>);

/// The token hashes of a data directory, re-read when the file changes (so a token made
/// by `pedigree token create` works without a restart).
pub struct Tokens {
    path: PathBuf,
    loaded: RwLock<(Option<SystemTime>, HashMap<String, Holder>)>,
}

impl Tokens {
    /// The tokens of data directory `dir`.
    pub fn open(dir: &Path) -> Self {
        let t = Self {
            path: dir.join(TOKENS_FILE),
            loaded: RwLock::new((None, HashMap::new())),
        };
        t.reload();
        t
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }

    fn reload(&self) {
        let modified = self.modified();
        let map = match read_file(&self.path) {
            Ok(f) => f
                .tokens
                .into_iter()
                .map(|t| (t.sha256, (t.actor, t.patient)))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "the token file cannot be read; every token is refused");
                HashMap::new()
            }
        };
        *self.loaded.write() = (modified, map);
    }

    fn holder(&self, token: &str) -> Option<Holder> {
        let h = hash(token);
        if let Some(a) = self.loaded.read().1.get(&h) {
            return Some(a.clone());
        }
        if self.modified() != self.loaded.read().0 {
            self.reload();
        }
        self.loaded.read().1.get(&h).cloned()
    }

    /// The actor a token belongs to (none for a patient's token).
    pub fn actor(&self, token: &str) -> Option<ActorId> {
        match self.holder(token)? {
            (actor, None) => Some(actor),
            (_, Some(_)) => None,
        }
    }

    /// The patient a request's bearer token stands for, while the hospital actor who
    /// issued it is active.
    pub fn patient(&self, req: &HttpRequest, ledger: &Ledger) -> Option<PatientCaller> {
        let token = bearer(req)?;
        let (via, patient) = self.holder(token)?;
        Caller::of(&ledger.consortium(), &via)?;
        Some(PatientCaller {
            patient: patient?,
            via,
        })
    }

    /// The caller a token stands for, when it names an active actor of the consortium.
    pub fn caller(&self, token: &str, ledger: &Ledger) -> Option<Caller> {
        let actor = self.actor(token)?;
        Caller::of(&ledger.consortium(), &actor)
    }

    /// The caller of an HTTP request: `Ok(None)` without an `Authorization` header,
    /// [`Unauthenticated`] (answered 401) for a token that is malformed, unknown, or of a revoked actor.
    pub fn authenticate(
        &self,
        req: &HttpRequest,
        ledger: &Ledger,
    ) -> Result<Option<Caller>, Unauthenticated> {
        if req.headers().get("authorization").is_none() {
            return Ok(None);
        }
        match bearer(req).and_then(|t| self.caller(t, ledger)) {
            Some(c) => Ok(Some(c)),
            None => Err(Unauthenticated),
        }
    }
}

/// The bearer token of a request.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("authorization")?
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// A token was sent but stands for no active actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthenticated;

/// The 401 answer.
pub fn unauthenticated() -> HttpResponse {
    error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "the bearer token is missing, malformed, unknown or revoked; send `Authorization: Bearer <token>` with a token from `pedigree token create`",
    )
}

/// The token in a websocket `connection_init` payload: `{"Authorization": "Bearer T"}`
/// (any case) or `{"token": "T"}`.
pub fn token_in(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    for (k, v) in obj {
        let Some(v) = v.as_str() else { continue };
        if k.eq_ignore_ascii_case("authorization") {
            return v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(|t| t.trim().to_string());
        }
        if k == "token" {
            return Some(v.to_string());
        }
    }
    None
}
