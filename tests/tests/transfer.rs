//! A chain moves from SQLite to PostgreSQL: `pedigree export` from a peer that took events
//! over HTTP, `pedigree import` into a data directory whose store is PostgreSQL (every
//! block re-verified), `pedigree audit` on the copy, and the copy serves and keeps going.
//! Without a PostgreSQL server the test prints a notice and passes as skipped, unless
//! `REQUIRE_POSTGRES=1`.

use e2e::{Peer, pedigree};
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.into())
}

/// Runs one SQL string over PostgreSQL's simple query protocol. Enough for trust
/// authentication only: the test needs no database client crate just to make and drop a
/// schema.
fn simple_query(url: &str, sql: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or("the URL must start with postgres://")?;
    let (user, rest) = rest.split_once('@').ok_or("the URL needs user@host")?;
    let user = user.split(':').next().unwrap_or(user);
    let (host, db) = rest.split_once('/').ok_or("the URL needs /database")?;
    let db = db.split('?').next().unwrap_or(db);
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&host)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for part in [
        "user",
        user,
        "database",
        db,
        "client_min_messages",
        "warning",
    ] {
        body.extend_from_slice(part.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    startup.extend(body);
    s.write_all(&startup).map_err(|e| e.to_string())?;
    read_until_ready(&mut s)?;
    let mut query = vec![b'Q'];
    query.extend(((sql.len() + 5) as u32).to_be_bytes());
    query.extend(sql.as_bytes());
    query.push(0);
    s.write_all(&query).map_err(|e| e.to_string())?;
    read_until_ready(&mut s)?;
    let _ = s.write_all(&[b'X', 0, 0, 0, 4]);
    Ok(())
}

/// Reads server messages up to ReadyForQuery; an ErrorResponse or a request for a
/// password is an error.
fn read_until_ready(s: &mut TcpStream) -> Result<(), String> {
    let mut failure = None;
    loop {
        let mut head = [0u8; 5];
        s.read_exact(&mut head).map_err(|e| e.to_string())?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len.saturating_sub(4)];
        s.read_exact(&mut body).map_err(|e| e.to_string())?;
        match head[0] {
            b'R' if body[..4] != [0, 0, 0, 0] => {
                return Err("the server asks for a password; use a trust login".into());
            }
            b'E' => failure = Some(String::from_utf8_lossy(&body).replace('\0', " ")),
            b'Z' => return failure.map_or(Ok(()), Err),
            _ => {}
        }
    }
}

/// A fresh schema for this test, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn create() -> Option<Self> {
        let url = database_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let tag = sha256(format!("{nanos}/{}", std::process::id()).as_bytes()).to_hex();
        let name = format!("pedigree_test_{}", &tag[..16]);
        match simple_query(&url, &format!("CREATE SCHEMA \"{name}\"")) {
            Ok(()) => Some(Self { url, name }),
            Err(e) if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
                panic!("REQUIRE_POSTGRES=1 but PostgreSQL at {url} is not usable: {e}")
            }
            Err(e) => {
                eprintln!(
                    "notice: skipping the SQLite-to-PostgreSQL transfer test: no usable server at {url} ({e})"
                );
                None
            }
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Err(e) = simple_query(
            &self.url,
            &format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name),
        ) {
            eprintln!("warning: could not drop schema {}: {e}", self.name);
        }
    }
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn post_anchors(peer: &Peer, tag: &str, rounds: usize) {
    let d = demo(&PeerLayout::Single {
        endpoint: String::new(),
    });
    let signer = d.signer("northwind/warehouse");
    for round in 0..rounds {
        let events: Vec<Value> = (0..20)
            .map(|i| {
                let digest = sha256(format!("transfer/{tag}/{round}/{i}").as_bytes());
                signer
                    .event("anchor", "anchor", json!({"digest": digest}))
                    .to_json_value()
            })
            .collect();
        let (status, body) = peer.post("/events", &Value::Array(events));
        assert_eq!(status, 200, "{body}");
        assert!(
            body["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] == "committed"),
            "{body}"
        );
    }
}

/// A copy of `from` (keys and config) whose store is PostgreSQL in `schema`.
fn postgres_data_dir(from: &Path, to: &Path, schema: &Schema) {
    std::fs::create_dir_all(to.join("keys/actors")).unwrap();
    std::fs::copy(from.join("keys/peer.pem"), to.join("keys/peer.pem")).unwrap();
    // the off-chain EMR store's key goes with the peer too
    std::fs::copy(from.join("keys/emr.key"), to.join("keys/emr.key")).unwrap();
    for entry in std::fs::read_dir(from.join("keys/actors")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            to.join("keys/actors").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let config = std::fs::read_to_string(from.join("peer.toml")).unwrap();
    let sqlite = "kind = \"sqlite\"\npath = \"ledger.sqlite\"";
    assert!(config.contains(sqlite), "{config}");
    let postgres = format!(
        "kind = \"postgres\"\nurl = \"{}\"\nschema = \"{}\"",
        schema.url, schema.name
    );
    std::fs::write(to.join("peer.toml"), config.replace(sqlite, &postgres)).unwrap();
}

#[test]
fn a_sqlite_chain_moves_to_postgres_and_audits_clean() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sqlite_dir = tmp.path().join("sqlite-peer");
    let pg_dir = tmp.path().join("postgres-peer");
    let (a, b) = (sqlite_dir.to_str().unwrap(), pg_dir.to_str().unwrap());
    ok(pedigree(&["init", "--demo", "--data-dir", a]));
    let mut peer = Peer::serve(&sqlite_dir, &[]).unwrap();
    post_anchors(&peer, "sqlite", 5);
    let (_, chain) = peer.get("/chain");
    peer.stop();

    let export = tmp.path().join("chain.jsonl");
    let summary: Value = serde_json::from_str(&ok(pedigree(&[
        "export",
        "--data-dir",
        a,
        "-o",
        export.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(summary["head_hash"], chain["head_hash"]);
    let lines = std::fs::read_to_string(&export).unwrap();
    assert_eq!(
        lines.lines().count() as u64,
        chain["height"].as_u64().unwrap() + 1,
        "one line per block, genesis included"
    );
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["header"]["height"], 0, "genesis comes first");

    postgres_data_dir(&sqlite_dir, &pg_dir, &schema);
    let imported: Value = serde_json::from_str(&ok(pedigree(&[
        "import",
        "--data-dir",
        b,
        export.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(imported["head_hash"], chain["head_hash"]);
    assert_eq!(imported["imported"], chain["height"].as_u64().unwrap() + 1);
    let audit: Value = serde_json::from_str(&ok(pedigree(&["audit", "--data-dir", b]))).unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["head_hash"], chain["head_hash"]);

    // Importing again changes nothing; a damaged file is refused with the line named.
    let again: Value = serde_json::from_str(&ok(pedigree(&[
        "import",
        "--data-dir",
        b,
        export.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(again["imported"], 0);
    let damaged = tmp.path().join("damaged.jsonl");
    let mut block: Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
    block["header"]["height"] = json!(block["header"]["height"].as_u64().unwrap() + 1);
    std::fs::write(&damaged, format!("{lines}{block}\n")).unwrap();
    let out = pedigree(&["import", "--data-dir", b, damaged.to_str().unwrap()]);
    assert!(!out.status.success(), "a forged block is refused");

    // The copy serves, has the same chain, and keeps taking events on PostgreSQL.
    let mut copy = Peer::serve(&pg_dir, &[]).unwrap();
    let (_, copied) = copy.get("/chain");
    assert_eq!(copied["head_hash"], chain["head_hash"]);
    post_anchors(&copy, "postgres", 2);
    let (_, grown) = copy.get("/chain");
    assert!(grown["height"].as_u64() > chain["height"].as_u64());
    copy.stop();
    let audit: Value = serde_json::from_str(&ok(pedigree(&["audit", "--data-dir", b]))).unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
    drop(schema);
}

#[test]
fn a_peer_initialised_on_postgres_serves_and_audits_and_a_used_schema_is_refused() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pg-peer");
    let d = dir.to_str().unwrap();
    let pg = [
        "--database-url",
        schema.url.as_str(),
        "--schema",
        schema.name.as_str(),
    ];
    ok(pedigree(
        &[&["init", "--demo", "--data-dir", d][..], &pg].concat(),
    ));
    let config = std::fs::read_to_string(dir.join("peer.toml")).unwrap();
    assert!(config.contains("kind = \"postgres\""), "{config}");
    assert!(
        !dir.join("ledger.sqlite").exists(),
        "no SQLite file beside a PostgreSQL store"
    );
    let mut peer = Peer::serve(&dir, &[]).unwrap();
    post_anchors(&peer, "pg-init", 2);
    let (_, chain) = peer.get("/chain");
    assert!(chain["height"].as_u64().unwrap() >= 2, "{chain}");
    peer.stop();
    let audit: Value = serde_json::from_str(&ok(pedigree(&["audit", "--data-dir", d]))).unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["head_hash"], chain["head_hash"]);

    // The same schema again: refused before anything is written.
    let other = tmp.path().join("second");
    let out = pedigree(
        &[
            &["init", "--demo", "--data-dir", other.to_str().unwrap()][..],
            &pg,
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("STORE_NOT_EMPTY"), "{stderr}");
    assert!(!other.join("peer.toml").exists(), "nothing written");
}
