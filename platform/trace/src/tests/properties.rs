//! Properties over random histories of valid and invalid events, every event committed
//! without admission so the rules meet it at apply:
//! - admission (validate) and apply agree on every event;
//! - a refused event changes no state;
//! - every unit has exactly one member organisation as holder, or a terminal status,
//!   and containers and children agree;
//! - a recall's affected units and their holders equal a brute-force replay of the
//!   same history;
//! - the audit passes on the resulting store.

use super::*;
use crate::state::{self, ReadOnly, RecallUnit};
use crate::{Decommission, Reason, RecallDepth, TraceEvent, UndoDecommission};
use proptest::prelude::*;
use std::collections::BTreeMap;

const ACTORS: &[&str] = &[
    "acme-pharma/line-1",
    "northwind/warehouse",
    "city-pharmacy/pharmacist",
    "corner-pharmacy/pharmacist",
    "medidev/qa",
];
const SERIALS: usize = 6;
const CASES: u64 = 3;

#[derive(Debug, Clone)]
enum Op {
    Commission(usize, Vec<usize>),
    Pack(u64, Vec<usize>),
    Unpack(u64),
    Ship(usize, usize),
    Receive(usize),
    Dispense(usize),
    Decommission(usize),
    Undo(usize),
    Quarantine(usize, bool),
    Wait(i64),
}

/// Codes 0..SERIALS are packs, then cases.
fn code(i: usize) -> Code {
    if i < SERIALS {
        item(AMOX, &format!("S{i}"))
    } else {
        case(1 + (i - SERIALS) as u64 % CASES)
    }
}

fn any_code() -> impl Strategy<Value = usize> {
    0..SERIALS + CASES as usize
}

/// `None` picks the organisation the event needs (the holder, or the receiver), so
/// histories get deep; `Some(i)` picks anyone.
fn who() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => Just(None), 1 => (0..ACTORS.len()).prop_map(Some)]
}

fn op() -> impl Strategy<Value = (Option<usize>, Op)> {
    let op = prop_oneof![
        (0..2usize, proptest::collection::vec(0..SERIALS, 1..4))
            .prop_map(|(l, s)| Op::Commission(l, s)),
        (1..=CASES, proptest::collection::vec(any_code(), 1..3)).prop_map(|(p, c)| Op::Pack(p, c)),
        (1..=CASES).prop_map(Op::Unpack),
        (any_code(), 0..ACTORS.len()).prop_map(|(c, to)| Op::Ship(c, to)),
        any_code().prop_map(Op::Receive),
        any_code().prop_map(Op::Dispense),
        any_code().prop_map(Op::Decommission),
        any_code().prop_map(Op::Undo),
        (any_code(), any::<bool>()).prop_map(|(c, on)| Op::Quarantine(c, on)),
        (0..15i64).prop_map(Op::Wait),
    ];
    (who(), op)
}

fn actor_for(n: &Net, who: Option<usize>, op: &Op) -> &'static str {
    if let Some(i) = who {
        return ACTORS[i];
    }
    let c = match op {
        Op::Pack(_, c) => c.first().copied(),
        Op::Unpack(p) => Some(SERIALS + (*p as usize - 1)),
        Op::Ship(c, _) | Op::Receive(c) | Op::Dispense(c) => Some(*c),
        Op::Decommission(c) | Op::Undo(c) | Op::Quarantine(c, _) => Some(*c),
        Op::Commission(..) | Op::Wait(_) => None,
    };
    let Some(u) = c.and_then(|c| crate::unit(&n.ledger, &code(c)).unwrap()) else {
        return ACTORS[0];
    };
    let holder = match (op, u.status) {
        (Op::Receive(_), "in_transit") => crate::unit(&n.ledger, &u.root)
            .ok()
            .flatten()
            .and_then(|_| transit_to(n, &u.root))
            .unwrap_or(u.holder),
        _ => u.holder,
    };
    ACTORS
        .iter()
        .find(|a| a.starts_with(&format!("{holder}/")))
        .copied()
        .unwrap_or(ACTORS[0])
}

fn transit_to(n: &Net, root: &Code) -> Option<ledger::OrgId> {
    n.ledger
        .read("trace", |v| match state::unit(&ReadOnly(v), root)?.status {
            state::Status::InTransit { to, .. } => Some(to),
            _ => None,
        })
        .unwrap()
}

fn event(op: &Op) -> Option<TraceEvent> {
    let org_of = |a: usize| org(ACTORS[a].split('/').next().unwrap());
    Some(match op {
        Op::Commission(lot, serials) => {
            let s: Vec<String> = serials.iter().map(|i| format!("S{i}")).collect();
            let s: Vec<&str> = s.iter().map(String::as_str).collect();
            commission(AMOX, ["L1", "L2"][*lot], "2026-03-31", &s)
        }
        Op::Pack(p, c) => pack(*p, &c.iter().map(|i| code(*i)).collect::<Vec<_>>()),
        Op::Unpack(p) => unpack(*p, &[]),
        Op::Ship(c, to) => TraceEvent::Ship(crate::Ship {
            codes: vec![code(*c)],
            to: org_of(*to),
        }),
        Op::Receive(c) => receive(&[code(*c)], None),
        Op::Dispense(c) => dispense(&[code(*c)]),
        Op::Decommission(c) => TraceEvent::Decommission(Decommission {
            codes: vec![code(*c)],
            reason: if c % 2 == 0 {
                Reason::Damaged
            } else {
                Reason::Destroyed
            },
            location: None,
        }),
        Op::Undo(c) => TraceEvent::UndoDecommission(UndoDecommission {
            codes: vec![code(*c)],
            location: None,
        }),
        Op::Quarantine(c, true) => TraceEvent::Quarantine(codes(&[code(*c)])),
        Op::Quarantine(c, false) => TraceEvent::Release(codes(&[code(*c)])),
        Op::Wait(_) => return None,
    })
}

fn trace_state(n: &Net) -> Vec<(Vec<u8>, Vec<u8>)> {
    n.ledger.read("trace", |v| v.scan(b"", usize::MAX)).unwrap()
}

fn check_holders(n: &Net) {
    n.ledger
        .read("trace", |v| {
            let t = ReadOnly(v);
            let members = &v.consortium().organizations;
            for (k, _) in v.scan(b"u/", usize::MAX) {
                let c: Code = std::str::from_utf8(&k[2..]).unwrap().parse().unwrap();
                let r = state::resolve(&t, &c).unwrap();
                assert!(
                    members.iter().any(|o| &o.id == r.holder()),
                    "{c} has a member holder"
                );
                if let state::Status::InTransit { to, .. } = r.status() {
                    assert_ne!(to, r.holder(), "{c} in transit to its own holder");
                }
                if let Some(p) = &r.unit.parent {
                    assert!(
                        state::children(&t, p).contains(&c),
                        "{c} listed in its container"
                    );
                    assert!(!r.status().is_terminal() || r.top.status.is_terminal());
                }
            }
            for (k, _) in v.scan(b"c/", usize::MAX) {
                // one row per container, none per child
                assert!(!k.contains(&0), "a per-child row was written");
                let parent: scanners::Sscc = std::str::from_utf8(&k[2..]).unwrap().parse().unwrap();
                let children = state::children(&t, &parent);
                assert!(!children.is_empty(), "an empty container keeps no row");
                for child in children {
                    let u = state::unit(&t, &child).unwrap();
                    assert_eq!(u.parent.as_ref(), Some(&parent));
                }
            }
        })
        .unwrap();
}

/// The brute-force model: holder, parent, transit and lot of each unit, from the
/// events that were applied.
#[derive(Default)]
struct Model {
    holder: BTreeMap<Code, ledger::OrgId>,
    parent: BTreeMap<Code, Code>,
    to: BTreeMap<Code, ledger::OrgId>,
    lot: BTreeMap<Code, String>,
}

impl Model {
    fn root(&self, c: &Code) -> Code {
        let mut c = c.clone();
        while let Some(p) = self.parent.get(&c) {
            c = p.clone();
        }
        c
    }

    fn apply(&mut self, ev: &TraceEvent, who: &ledger::OrgId) {
        match ev {
            TraceEvent::Commission(p) => {
                for s in &p.serials {
                    let c = Code::item(p.gtin.clone(), s.clone());
                    self.holder.insert(c.clone(), who.clone());
                    self.lot.insert(c, p.lot.to_string());
                }
            }
            TraceEvent::Pack(p) => {
                let parent = Code::Container(p.parent.clone());
                self.holder
                    .entry(parent.clone())
                    .or_insert_with(|| who.clone());
                for c in &p.children {
                    self.parent.insert(c.clone(), parent.clone());
                }
            }
            TraceEvent::Unpack(p) => {
                let parent = Code::Container(p.parent.clone());
                let kids: Vec<Code> = self
                    .parent
                    .iter()
                    .filter(|(_, v)| **v == parent)
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in kids {
                    self.parent.remove(&k);
                    self.holder.insert(k, who.clone());
                }
            }
            TraceEvent::Ship(p) => {
                for c in &p.codes {
                    self.to.insert(c.clone(), p.to.clone());
                }
            }
            TraceEvent::Receive(p) => {
                for c in &p.codes {
                    let root = self.root(c);
                    if self.to.get(&root) == Some(who) {
                        self.to.remove(&root);
                        self.holder.insert(root, who.clone());
                    }
                }
            }
            TraceEvent::Decommission(p) => {
                // stolen in transit ends the transit; damaged/destroyed never start there
                for c in &p.codes {
                    self.to.remove(c);
                }
            }
            _ => {}
        }
    }
}

fn run_history(ops: &[(Option<usize>, Op)]) -> Vec<&'static str> {
    let mut n = Net::new();
    let mut model = Model::default();
    let mut applied = Vec::new();
    for (actor, op) in ops {
        let Some(ev) = event(op) else {
            if let Op::Wait(days) = op {
                n.time += days * DAY;
            }
            continue;
        };
        let actor = actor_for(&n, *actor, op);
        let who = org(actor.split('/').next().unwrap());
        let before = trace_state(&n);
        let e = n.sign(actor, &ev);
        let admitted = n.ledger.admit(vec![e.clone()]).pop().unwrap();
        let result = n.commit_raw(vec![e]).pop().unwrap();
        match (&admitted, &result) {
            (Ok(_), None) => {}
            (Err(a), Some(r)) => assert_eq!(a.code, r.as_str(), "{op:?}"),
            _ => panic!("admission {admitted:?} and apply {result:?} disagree on {op:?}"),
        }
        if result.is_some() {
            assert_eq!(before, trace_state(&n), "refused {op:?} changed state");
        } else {
            model.apply(&ev, &who);
            applied.push(ev.kind());
        }
        check_holders(&n);
    }
    // a recall of L1, against the brute-force model
    let want: BTreeMap<Code, ledger::OrgId> = model
        .lot
        .iter()
        .filter(|(_, l)| l.as_str() == "L1")
        .map(|(c, _)| (c.clone(), model.holder[&model.root(c)].clone()))
        .collect();
    let recall = super::recall::recall_lots(AMOX, &["L1"], RecallDepth::Patient);
    let e = n.sign("acme-pharma/qa", &recall);
    let id = e.id();
    let result = n.commit_raw(vec![e]).pop().unwrap();
    if want.is_empty() {
        assert!(result.is_some());
    } else {
        assert_eq!(result, None);
        let got: BTreeMap<Code, ledger::OrgId> = crate::recall_units(&n.ledger, &id, None)
            .unwrap()
            .into_iter()
            .map(|(c, u): (Code, RecallUnit)| (c, u.holder))
            .collect();
        assert_eq!(got, want);
    }
    n.audit();
    applied
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_keep_custody_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        run_history(&ops);
    }
}

#[test]
fn long_fixed_histories() {
    // deterministic walks through every operation, long enough to reach deep states
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=3 {
        let mut ops = Vec::new();
        let mut rng = fixtures::generator::SplitMix64::new(seed);
        for _ in 0..300 {
            let actor = (rng.below(4) == 0).then(|| rng.below(ACTORS.len()));
            let c = rng.below(SERIALS + CASES as usize);
            let op = match rng.below(12) {
                0 => Op::Commission(rng.below(2), vec![rng.below(SERIALS), rng.below(SERIALS)]),
                1 => Op::Pack(1 + rng.below(3) as u64, vec![c]),
                2 => Op::Unpack(1 + rng.below(3) as u64),
                3 | 4 => Op::Ship(c, rng.below(ACTORS.len())),
                5..=7 => Op::Receive(c),
                8 => Op::Dispense(c),
                9 => Op::Decommission(c),
                10 => Op::Undo(c),
                _ => Op::Quarantine(c, rng.below(2) == 0),
            };
            ops.push((actor, op));
        }
        seen.extend(run_history(&ops));
    }
    for kind in crate::KINDS.iter().take(10) {
        assert!(seen.contains(kind), "the walks apply a {kind}: {seen:?}");
    }
}

/// JSON of any shape, biased towards the field names and values trace payloads use.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("(01)00614141100019(21)A1".to_string()),
            Just("00614141100019".to_string()),
            Just("006141410000000005".to_string()),
            Just("2027-06-30".to_string()),
            Just("northwind".to_string()),
            Just("destroyed".to_string()),
            ".{0,24}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let key = prop_oneof![
            Just("gtin"),
            Just("lot"),
            Just("expiry"),
            Just("serials"),
            Just("codes"),
            Just("to"),
            Just("parent"),
            Just("children"),
            Just("reason"),
            Just("patient"),
            Just("code"),
            Just("recall"),
            Just("lots"),
            Just("class"),
            Just("depth"),
            Just("shipment"),
            Just("action"),
            Just("x"),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key.prop_map(String::from), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Bad input is answered with a code, never a panic, at admission.
    #[test]
    fn any_payload_is_answered_not_panicked_on(
        kind in proptest::sample::select(crate::KINDS.to_vec()),
        payload in json_value(),
    ) {
        thread_local!(static NET: std::cell::RefCell<Option<Net>> = const { std::cell::RefCell::new(None) });
        NET.with(|cell| {
            let mut slot = cell.borrow_mut();
            let n = slot.get_or_insert_with(|| {
                let mut n = Net::new();
                n.commission(AMOX, "L1", "2027-06-30", &["A1"]);
                n
            });
            let e = n.sign_raw("acme-pharma/line-1", kind, payload);
            let answer = n.ledger.admit(vec![e]).pop().unwrap();
            if let Err(r) = answer {
                assert!(r.code.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{r:?}");
            }
        });
    }
}
