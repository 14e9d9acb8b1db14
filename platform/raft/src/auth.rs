//! Peer authentication: every request between peers carries the sender's peer id, the
//! time, and an ed25519 signature with the sender's peer key over the method, the path,
//! the time and the SHA-256 of the body. The receiver checks the sender is a peer of the
//! consortium config in force (a removed peer is unknown), that the time is within
//! [`MAX_SKEW_MS`] of its own clock, and the signature. A replay inside that window can
//! only repeat a raft message, which raft tolerates.

use ledger::{Consortium, PeerId, SecretKey, Signature};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// Header naming the sending peer.
pub const PEER_HEADER: &str = "x-pedigree-peer";
/// Header with the sender's clock, Unix milliseconds.
pub const TIME_HEADER: &str = "x-pedigree-time";
/// Header with the signature, hex.
pub const SIGNATURE_HEADER: &str = "x-pedigree-signature";
/// How far a request's time may be from the receiver's clock.
pub const MAX_SKEW_MS: i64 = 30_000;

/// Why a peer request was refused. Answered as HTTP 401 with `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AuthError {
    /// Stable code: `PEER_UNAUTHENTICATED`, `UNKNOWN_PEER`, `BAD_PEER_SIGNATURE` or
    /// `STALE_PEER_REQUEST`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> AuthError {
    AuthError {
        code,
        message: message.into(),
    }
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The bytes a peer signs for one request.
pub fn signed_bytes(method: &str, path: &str, time: i64, body: &[u8]) -> Vec<u8> {
    format!(
        "pedigree peer request v1\n{}\n{path}\n{time}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(Sha256::digest(body))
    )
    .into_bytes()
}

/// The three headers for a request from `peer`.
pub fn sign(
    peer: &PeerId,
    key: &SecretKey,
    method: &str,
    path: &str,
    body: &[u8],
) -> [(&'static str, String); 3] {
    let time = now_ms();
    let signature = key.sign(&signed_bytes(method, path, time, body));
    [
        (PEER_HEADER, peer.as_str().to_string()),
        (TIME_HEADER, time.to_string()),
        (SIGNATURE_HEADER, signature.to_hex()),
    ]
}

/// The authentication headers as received (any may be missing).
#[derive(Debug, Clone, Default)]
pub struct Presented<'a> {
    /// [`PEER_HEADER`].
    pub peer: Option<&'a str>,
    /// [`TIME_HEADER`].
    pub time: Option<&'a str>,
    /// [`SIGNATURE_HEADER`].
    pub signature: Option<&'a str>,
}

/// Checks a request against the consortium config in force; returns the sending peer.
pub fn verify(
    consortium: &Consortium,
    presented: &Presented<'_>,
    method: &str,
    path: &str,
    body: &[u8],
    now: i64,
) -> Result<PeerId, AuthError> {
    let (Some(peer), Some(time), Some(signature)) =
        (presented.peer, presented.time, presented.signature)
    else {
        return Err(refuse(
            "PEER_UNAUTHENTICATED",
            format!("peer requests carry {PEER_HEADER}, {TIME_HEADER} and {SIGNATURE_HEADER}"),
        ));
    };
    let peer = PeerId::new(peer).map_err(|_| refuse("UNKNOWN_PEER", "the peer id is not valid"))?;
    let info = consortium.peer(&peer).ok_or_else(|| {
        refuse(
            "UNKNOWN_PEER",
            format!("{peer} is not a peer of the consortium"),
        )
    })?;
    let time: i64 = time
        .parse()
        .map_err(|_| refuse("PEER_UNAUTHENTICATED", "the time header is not a number"))?;
    if (now - time).abs() > MAX_SKEW_MS {
        return Err(refuse(
            "STALE_PEER_REQUEST",
            format!("the request's time is more than {MAX_SKEW_MS} ms from this peer's clock"),
        ));
    }
    let signature = Signature::from_hex(signature)
        .map_err(|_| refuse("BAD_PEER_SIGNATURE", "the signature is not 64 bytes of hex"))?;
    if !info
        .public_key
        .verify(&signed_bytes(method, path, time, body), &signature)
    {
        return Err(refuse(
            "BAD_PEER_SIGNATURE",
            format!("the signature does not verify with {peer}'s registered key"),
        ));
    }
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{PeerLayout, demo};
    use std::collections::BTreeMap;

    fn net() -> fixtures::Demo {
        demo(&PeerLayout::PerOrg {
            endpoints: BTreeMap::new(),
            voters: 3,
        })
    }

    fn presented<'a>(h: &'a [(&'static str, String); 3]) -> Presented<'a> {
        Presented {
            peer: Some(&h[0].1),
            time: Some(&h[1].1),
            signature: Some(&h[2].1),
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_is_refused() {
        let d = net();
        let peer = d.consortium.peers[1].id.clone();
        let key = &d.peer_keys[&peer];
        let h = sign(&peer, key, "post", "/raft/append", b"{}");
        let now = now_ms();
        let p = presented(&h);
        assert_eq!(
            verify(&d.consortium, &p, "POST", "/raft/append", b"{}", now),
            Ok(peer.clone())
        );
        let code = |r: Result<PeerId, AuthError>| r.unwrap_err().code;
        assert_eq!(
            code(verify(&d.consortium, &p, "POST", "/raft/vote", b"{}", now)),
            "BAD_PEER_SIGNATURE"
        );
        assert_eq!(
            code(verify(
                &d.consortium,
                &p,
                "POST",
                "/raft/append",
                b"{ }",
                now
            )),
            "BAD_PEER_SIGNATURE"
        );
        assert_eq!(
            code(verify(
                &d.consortium,
                &p,
                "POST",
                "/raft/append",
                b"{}",
                now + 60_000
            )),
            "STALE_PEER_REQUEST"
        );
        assert_eq!(
            code(verify(
                &d.consortium,
                &Presented::default(),
                "POST",
                "/raft/append",
                b"{}",
                now
            )),
            "PEER_UNAUTHENTICATED"
        );
        // Signed by another peer's key under this peer's name.
        let other = &d.peer_keys[&d.consortium.peers[2].id];
        let forged = sign(&peer, other, "POST", "/raft/append", b"{}");
        assert_eq!(
            code(verify(
                &d.consortium,
                &presented(&forged),
                "POST",
                "/raft/append",
                b"{}",
                now
            )),
            "BAD_PEER_SIGNATURE"
        );
        // A peer removed from the consortium is unknown.
        let mut removed = d.consortium.clone();
        removed.peers.retain(|p| p.id != peer);
        assert_eq!(
            code(verify(&removed, &p, "POST", "/raft/append", b"{}", now)),
            "UNKNOWN_PEER"
        );
    }

    proptest::proptest! {
        #[test]
        fn a_signature_covers_method_path_time_and_body(
            path in "/raft/[a-z]{1,12}",
            other_path in "/raft/[a-z]{1,12}",
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            flip in 0usize..256,
            skew in 1i64..10_000,
        ) {
            let d = net();
            let peer = d.consortium.peers[0].id.clone();
            let key = &d.peer_keys[&peer];
            let now = now_ms();
            let signature = key.sign(&signed_bytes("POST", &path, now, &body));
            let check = |method: &str, path: &str, time: i64, body: &[u8]| {
                let t = time.to_string();
                let s = signature.to_hex();
                let p = Presented { peer: Some(peer.as_str()), time: Some(&t), signature: Some(&s) };
                verify(&d.consortium, &p, method, path, body, now).is_ok()
            };
            proptest::prop_assert!(check("POST", &path, now, &body));
            proptest::prop_assert!(!check("GET", &path, now, &body));
            proptest::prop_assert!(!check("POST", &path, now - skew, &body));
            if other_path != path {
                proptest::prop_assert!(!check("POST", &other_path, now, &body));
            }
            let mut changed = body.clone();
            if changed.is_empty() {
                changed.push(0);
            } else {
                let i = flip % changed.len();
                changed[i] ^= 1;
            }
            proptest::prop_assert!(!check("POST", &path, now, &changed));
        }
    }
}
