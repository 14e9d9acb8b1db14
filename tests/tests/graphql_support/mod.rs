//! What the GraphQL end-to-end tests share: a demo peer, its credentials, GraphQL calls
//! as a given demo actor, and a `graphql-transport-ws` websocket client.

#![allow(dead_code)]

use e2e::Peer;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// A running demo peer with its data directory.
pub struct Demo {
    /// Keeps the data directory alive.
    pub dir: tempfile::TempDir,
    /// The peer.
    pub peer: Peer,
}

impl Demo {
    /// `pedigree serve --demo` (seeded) on a free port.
    pub fn start() -> Self {
        Self::with(&["--demo"])
    }

    /// `pedigree serve` with these flags.
    pub fn with(flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let peer = Peer::serve(&dir.path().join("peer"), flags).unwrap();
        Self { dir, peer }
    }

    /// The data directory.
    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("peer")
    }

    /// `demo-credentials.json`.
    pub fn credentials(&self) -> Value {
        let text = std::fs::read_to_string(self.data().join("demo-credentials.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The bearer token of a demo actor.
    pub fn token(&self, actor: &str) -> String {
        self.credentials()["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == actor)
            .unwrap_or_else(|| panic!("no demo actor {actor}"))["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// POSTs a GraphQL request as `actor` (anonymous when `None`).
    pub fn gql(&self, actor: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let token = actor.map(|a| self.token(a));
        post(
            &self.peer.url,
            token.as_deref(),
            &json!({"query": query, "variables": variables}),
        )
    }

    /// Data of a GraphQL request that must succeed.
    pub fn ok(&self, actor: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(Some(actor), query, variables);
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{actor}: {query}: {body}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error of a request that must fail.
    pub fn error_code(&self, actor: Option<&str>, query: &str, variables: Value) -> String {
        let (status, body) = self.gql(actor, query, variables);
        assert_eq!(status, 200, "{body}");
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {body}"))
            .to_string()
    }
}

/// POSTs JSON to `/graphql` with an optional bearer token.
pub fn post(url: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = ureq::post(&format!("{url}/graphql")).timeout(Duration::from_secs(20));
    if let Some(t) = token {
        req = req.set("authorization", &format!("Bearer {t}"));
    }
    response(req.send_json(body))
}

/// GETs a path with an `Accept` header; status and text.
pub fn get_text(url: &str, path: &str, accept: &str) -> (u16, String) {
    match ureq::get(&format!("{url}{path}"))
        .set("accept", accept)
        .call()
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

fn response(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let (status, text) = match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    };
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A GS1 SSCC with a valid check digit from 17 digits.
pub fn sscc(first17: &str) -> String {
    let check = fixtures::products::check_digit(first17).unwrap();
    format!("{first17}{check}")
}

/// A `graphql-transport-ws` client over a real websocket.
pub struct Ws(WebSocket<MaybeTlsStream<TcpStream>>);

impl Ws {
    /// Connects to the peer's `/graphql` websocket and sends `connection_init` with the
    /// token; returns the client and the server's first answer.
    pub fn connect(url: &str, token: &str) -> (Self, Value) {
        let ws_url = url.replacen("http://", "ws://", 1) + "/graphql";
        let mut req = ws_url.into_client_request().unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, _) = tungstenite::connect(req).unwrap();
        if let MaybeTlsStream::Plain(s) = socket.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        }
        let mut ws = Self(socket);
        ws.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}));
        let first = ws.next();
        (ws, first)
    }

    /// Sends one message.
    pub fn send(&mut self, v: Value) {
        self.0.send(Message::Text(v.to_string().into())).unwrap();
    }

    /// The next JSON message (pings answered and skipped); a close frame as
    /// `{"close": code}`.
    pub fn next(&mut self) -> Value {
        loop {
            match self.0.read() {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "ping" {
                        self.send(json!({"type": "pong"}));
                        continue;
                    }
                    return v;
                }
                Ok(Message::Close(frame)) => {
                    return json!({"close": frame.map(|f| u16::from(f.code))});
                }
                Ok(_) => continue,
                Err(e) => return json!({"error": e.to_string()}),
            }
        }
    }
}
