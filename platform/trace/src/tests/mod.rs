//! Scenario tests on a real ledger: SQLite in a temporary directory, the demo
//! consortium's signers, blocks sealed at chosen times (so expiry and the undo window
//! are testable) and, in one test, the solo orderer.

mod custody;
mod devices;
mod epcis;
mod properties;
mod provenance;
mod recall;
mod verify;

use crate::{Code, Trace, TraceEvent};
use fixtures::{Demo, PeerLayout, demo};
use ledger::{
    Block, CutPolicy, Envelope, EventId, Ledger, Modules, Orderer, SoloOrderer, SqliteStore,
};
use scanners::{Gtin, Serial, Sscc};
use std::sync::Arc;

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;
/// One day in ms.
pub const DAY: i64 = 86_400_000;

pub const AMOX: &str = "00614141100019";
pub const METF: &str = "00614141100026";
pub const PACER: &str = "00860001200010";
pub const PUMP: &str = "00860001200027";

pub fn item(gtin: &str, serial: &str) -> Code {
    Code::item(Gtin::new(gtin).unwrap(), Serial::new(serial).unwrap())
}

pub fn sscc(n: u64) -> Sscc {
    Sscc::new(&fixtures::generator::sscc(n)).unwrap()
}

pub fn case(n: u64) -> Code {
    Code::Container(sscc(n))
}

pub fn org(s: &str) -> ledger::OrgId {
    ledger::OrgId::new(s).unwrap()
}

/// A one-peer ledger with the trace module.
pub struct Net {
    pub demo: Demo,
    pub ledger: Arc<Ledger>,
    pub time: i64,
    nonce: u64,
    _dir: tempfile::TempDir,
}

impl Net {
    pub fn new() -> Self {
        let demo = demo(&PeerLayout::Single {
            endpoint: "http://127.0.0.1:1".into(),
        });
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("l.sqlite")).unwrap());
        let ledger =
            Arc::new(Ledger::init(store, Modules::new().with(Trace), demo.genesis(T0)).unwrap());
        Self {
            demo,
            ledger,
            time: T0 + 1000,
            nonce: 0,
            _dir: dir,
        }
    }

    /// Signs as `actor`, dated at the test's clock (admission checks time-bound rules
    /// against `created_at`).
    pub fn sign(&mut self, actor: &str, ev: &TraceEvent) -> Envelope {
        self.sign_raw(actor, ev.kind(), ev.payload())
    }

    /// Signs any kind and payload as `actor`.
    pub fn sign_raw(&mut self, actor: &str, kind: &str, payload: serde_json::Value) -> Envelope {
        self.nonce += 1;
        let id = ledger::ActorId::new(actor).unwrap();
        ledger::UnsignedEnvelope {
            module: ledger::ModuleName::new("trace").unwrap(),
            kind: ledger::ModuleName::new(kind).unwrap(),
            payload,
            org: org(actor.split('/').next().unwrap()),
            created_at: self.time + 1,
            nonce: self.nonce,
            actor: id.clone(),
        }
        .sign(&self.demo.actor_keys[&id])
    }

    /// Admits and commits events in one block at `self.time`: per event, the admission
    /// code, or the apply result (`None` when applied).
    pub fn submit(&mut self, events: Vec<Envelope>) -> Vec<Result<Option<String>, String>> {
        let admitted = self.ledger.admit(events);
        let mut out = Vec::new();
        let mut ok = Vec::new();
        for a in admitted {
            match a {
                Ok(v) => {
                    ok.push(v);
                    out.push(Ok(None));
                }
                Err(r) => out.push(Err(r.code.into_owned())),
            }
        }
        if !ok.is_empty() {
            let notice = self.seal(ok);
            let mut results = notice.results.iter();
            for o in out.iter_mut().filter(|o| o.is_ok()) {
                *o = Ok(results.next().unwrap().1.clone());
            }
        }
        out
    }

    fn seal(&mut self, events: Vec<ledger::VerifiedEnvelope>) -> Arc<ledger::CommitNotice> {
        let head = self.ledger.head();
        let peer = &self.demo.consortium.peers[0];
        self.time = self.time.max(head.time) + 1;
        let block = ledger::block::ProposedBlock::seal(
            head.height + 1,
            head.hash,
            self.time,
            peer.id.clone(),
            &self.demo.peer_keys[&peer.id],
            events,
        );
        self.ledger.commit_proposed(block).unwrap()
    }

    /// Commits without admission, so the event meets the rules only at apply; the
    /// result code (`None` when applied).
    pub fn apply_only(&mut self, actor: &str, ev: &TraceEvent) -> Option<String> {
        let e = self.sign(actor, ev);
        self.commit_raw(vec![e]).pop().unwrap()
    }

    /// Commits a block of already signed events without admission.
    pub fn commit_raw(&mut self, events: Vec<Envelope>) -> Vec<Option<String>> {
        let head = self.ledger.head();
        let peer = &self.demo.consortium.peers[0];
        self.time = self.time.max(head.time) + 1;
        let block = Block::seal(
            head.height + 1,
            head.hash,
            self.time,
            peer.id.clone(),
            &self.demo.peer_keys[&peer.id],
            events,
        );
        let notice = self.ledger.commit_block(block).unwrap();
        notice.results.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Submits one event that must be applied; its id.
    #[track_caller]
    pub fn ok(&mut self, actor: &str, ev: TraceEvent) -> EventId {
        let e = self.sign(actor, &ev);
        let id = e.id();
        let r = self.submit(vec![e]);
        assert_eq!(r, vec![Ok(None)], "{actor} {}", ev.kind());
        id
    }

    /// Submits one event that must be refused, at admission and (bypassing admission)
    /// at apply, with the same code; the code.
    #[track_caller]
    pub fn refused(&mut self, actor: &str, ev: TraceEvent) -> String {
        let e = self.sign(actor, &ev);
        let at_admission = self.submit(vec![e]).pop().unwrap();
        let code = at_admission.expect_err("refused at admission");
        let at_apply = self.apply_only(actor, &ev);
        assert_eq!(at_apply.as_deref(), Some(code.as_str()), "apply agrees");
        code
    }

    /// Through the solo orderer (wall-clock block time), as the peer runs it.
    pub fn via_orderer(&self, events: Vec<Envelope>) -> Vec<Result<Option<String>, String>> {
        let peer = &self.demo.consortium.peers[0];
        let orderer = SoloOrderer::start(
            self.ledger.clone(),
            peer.id.clone(),
            self.demo.peer_keys[&peer.id].clone(),
            CutPolicy::default(),
        );
        let mut out = Vec::new();
        let mut ok = Vec::new();
        for a in self.ledger.admit(events) {
            match a {
                Ok(v) => {
                    ok.push(v);
                    out.push(Ok(None));
                }
                Err(r) => out.push(Err(r.code.into_owned())),
            }
        }
        if !ok.is_empty() {
            let (tx, rx) = std::sync::mpsc::channel();
            orderer.submit(ok, Box::new(move |r| tx.send(r).unwrap()));
            let receipt = rx.recv().unwrap().unwrap();
            let mut results = receipt.results.into_iter();
            for o in out.iter_mut().filter(|o| o.is_ok()) {
                *o = Ok(results.next().unwrap().1);
            }
        }
        out
    }

    pub fn audit(&self) {
        let report =
            ledger::audit::audit(self.ledger.store().as_ref(), &Modules::new().with(Trace))
                .unwrap();
        assert!(report.ok(), "{:?}", report.faults);
    }

    pub fn unit(&self, code: &Code) -> crate::UnitView {
        crate::unit(&self.ledger, code)
            .unwrap()
            .expect("unit exists")
    }

    // ---- event builders ----

    pub fn commission(
        &mut self,
        gtin: &str,
        lot: &str,
        expiry: &str,
        serials: &[&str],
    ) -> Vec<Code> {
        let owner = if gtin.starts_with("00860001") {
            "medidev/qa"
        } else {
            "acme-pharma/line-1"
        };
        self.ok(owner, commission(gtin, lot, expiry, serials));
        serials.iter().map(|s| item(gtin, s)).collect()
    }

    /// Commissions, packs into case `n`, ships to `to` and receives there.
    pub fn deliver(&mut self, to_actor: &str, serials: &[&str], n: u64) -> Vec<Code> {
        let items = self.commission(AMOX, "LOT1", "2027-06-30", serials);
        self.ok("acme-pharma/line-1", pack(n, &items));
        let to = to_actor.split('/').next().unwrap();
        self.ok("acme-pharma/line-1", ship(&[case(n)], to));
        self.ok(to_actor, receive(&[case(n)], None));
        items
    }
}

pub fn commission(gtin: &str, lot: &str, expiry: &str, serials: &[&str]) -> TraceEvent {
    TraceEvent::Commission(crate::Commission {
        gtin: Gtin::new(gtin).unwrap(),
        lot: scanners::Lot::new(lot).unwrap(),
        expiry: expiry.parse().unwrap(),
        serials: serials.iter().map(|s| Serial::new(s).unwrap()).collect(),
        device: gtin.starts_with("00860001"),
        location: None,
    })
}

pub fn pack(n: u64, children: &[Code]) -> TraceEvent {
    TraceEvent::Pack(crate::Pack {
        parent: sscc(n),
        children: children.to_vec(),
    })
}

pub fn unpack(n: u64, children: &[Code]) -> TraceEvent {
    TraceEvent::Unpack(crate::Unpack {
        parent: sscc(n),
        children: children.to_vec(),
    })
}

pub fn ship(codes: &[Code], to: &str) -> TraceEvent {
    TraceEvent::Ship(crate::Ship {
        codes: codes.to_vec(),
        to: org(to),
    })
}

pub fn receive(codes: &[Code], shipment: Option<EventId>) -> TraceEvent {
    TraceEvent::Receive(crate::Receive {
        codes: codes.to_vec(),
        shipment,
    })
}

pub fn codes(codes: &[Code]) -> crate::Codes {
    crate::Codes {
        codes: codes.to_vec(),
    }
}

pub fn dispense(c: &[Code]) -> TraceEvent {
    TraceEvent::Dispense(codes(c))
}
