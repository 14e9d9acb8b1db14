//! `pedigree epcis import|export`: EPCIS 2.0 JSON-LD documents in and out of a running
//! peer over its HTTP API (`POST /epcis/capture`, `GET /epcis/events`). The answer is
//! printed as JSON. Exit 0 when every event was recorded (or the export succeeded), 1 when
//! some event or the document was refused, 2 on a usage or connection error.
//!
//! The peer and the token come from `--url` and `--token` (or `PEDIGREE_URL`,
//! `PEDIGREE_TOKEN`), else from a demo data directory's `demo-credentials.json` with
//! `--actor` choosing whose token.

use crate::auth::{CREDENTIALS_FILE, DemoCredentials};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Most pages an export follows.
const MAX_PAGES: usize = 1_000;

/// `pedigree epcis ...`
#[derive(Debug, Subcommand)]
pub enum EpcisCommand {
    /// Send an EPCIS 2.0 document's events to the peer; print what became of each.
    Import(ImportArgs),
    /// Print an EPCIS 2.0 document of the events you may see.
    Export(ExportArgs),
}

/// Which peer, as whom.
#[derive(Debug, Args)]
pub struct Connection {
    /// The peer's base URL, e.g. http://127.0.0.1:7800 (default: from demo credentials).
    #[arg(long)]
    pub url: Option<String>,
    /// Bearer token (default: the `--actor`'s in demo credentials).
    #[arg(long)]
    pub token: Option<String>,
    /// A demo data directory holding `demo-credentials.json`.
    #[arg(long, default_value = "pedigree-data")]
    pub data_dir: PathBuf,
    /// The demo actor to act as, e.g. `acme-pharma/line-1`.
    #[arg(long)]
    pub actor: Option<String>,
}

/// `pedigree epcis import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The EPCISDocument (JSON-LD); `-` reads stdin.
    pub file: PathBuf,
    #[command(flatten)]
    pub connection: Connection,
}

/// `pedigree epcis export`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["code", "since"])))]
pub struct ExportArgs {
    /// One unit's events (any scan form).
    #[arg(long)]
    pub code: Option<String>,
    /// Every event from this block time on: ISO 8601 or Unix milliseconds.
    #[arg(long)]
    pub since: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// Runs `pedigree epcis ...`.
pub fn run(cmd: EpcisCommand) -> Result<ExitCode> {
    match cmd {
        EpcisCommand::Import(a) => import(a),
        EpcisCommand::Export(a) => export(a),
    }
}

impl Connection {
    /// The base URL and token to use.
    fn resolve(&self) -> Result<(String, String)> {
        let credentials = || -> Result<DemoCredentials> {
            let path = self.data_dir.join(CREDENTIALS_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "no --url/--token given and {} cannot be read",
                    path.display()
                )
            })?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not demo credentials", path.display()))
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let url = match self.url.clone().or_else(|| env("PEDIGREE_URL")) {
            Some(u) => u,
            None => {
                let c = credentials()?;
                c.graphql.trim_end_matches("/graphql").to_string()
            }
        };
        let token = match (
            self.token.clone().or_else(|| env("PEDIGREE_TOKEN")),
            &self.actor,
        ) {
            (Some(t), _) => t,
            (None, Some(actor)) => credentials()?
                .actors
                .into_iter()
                .find(|a| &a.id == actor)
                .map(|a| a.token)
                .ok_or_else(|| anyhow!("{actor} is not in the demo credentials"))?,
            (None, None) => {
                bail!("give --token TOKEN, or --actor ACTOR with a demo data directory")
            }
        };
        Ok((url.trim_end_matches('/').to_string(), token))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

/// The JSON body of an answer, whatever its status; `Err` only when there was none.
fn answer(
    outcome: Result<ureq::Response, ureq::Error>,
    url: &str,
) -> Result<(u16, Value, Option<String>)> {
    let response = match outcome {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => bail!("cannot reach {url}: {e}"),
    };
    let status = response.status();
    let next = response.header("gs1-next-page-token").map(str::to_string);
    let body: Value = response
        .into_json()
        .with_context(|| format!("{url} answered HTTP {status} without JSON"))?;
    Ok((status, body, next))
}

fn print(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        s
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?
    };
    let document: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.file.display()))?;
    let (url, token) = args.connection.resolve()?;
    let endpoint = format!("{url}/epcis/capture");
    let sent = agent()
        .post(&endpoint)
        .set("authorization", &format!("Bearer {token}"))
        .set("content-type", "application/ld+json")
        .send_json(document);
    let (status, body, _) = answer(sent, &endpoint)?;
    print(&body)?;
    match status {
        200 if body["refused"] == 0 => Ok(ExitCode::SUCCESS),
        200 | 422 | 400 => Ok(ExitCode::from(1)),
        401 | 403 => bail!("{endpoint} refused the token: {}", body["message"]),
        _ => bail!("{endpoint} answered HTTP {status}"),
    }
}

fn export(args: ExportArgs) -> Result<ExitCode> {
    let (url, token) = args.connection.resolve()?;
    let endpoint = format!("{url}/epcis/events");
    let client = agent();
    let get = |extra: &[(&str, &str)]| {
        let mut req = client
            .get(&endpoint)
            .set("authorization", &format!("Bearer {token}"));
        if let Some(c) = &args.code {
            req = req.query("code", c);
        }
        if let Some(s) = &args.since {
            req = req.query("since", s);
        }
        for (k, v) in extra {
            req = req.query(k, v);
        }
        answer(req.call(), &endpoint)
    };
    let (status, mut document, mut next) = get(&[])?;
    if status != 200 {
        print(&document)?;
        bail!("{endpoint} answered HTTP {status}: {}", document["message"]);
    }
    // Pages after the first join the first document's event list.
    for _ in 0..MAX_PAGES {
        let Some(token) = next.take() else { break };
        let (status, page, more) = get(&[("nextPageToken", &token)])?;
        if status != 200 {
            bail!(
                "{endpoint} answered HTTP {status} on a later page: {}",
                page["message"]
            );
        }
        let more_events = page["epcisBody"]["eventList"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(list) = document["epcisBody"]["eventList"].as_array_mut() {
            list.extend(more_events);
        }
        next = more;
    }
    print(&document)?;
    Ok(ExitCode::SUCCESS)
}
