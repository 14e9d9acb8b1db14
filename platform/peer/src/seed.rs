//! A believable demo history: Acme Pharma and MediDev commission products, Acme packs
//! cases and ships them to Northwind (one case is still on its way), which receives,
//! unpacks and ships on to the pharmacies and St Mary's; some packs are dispensed, a
//! pacemaker is implanted (pseudonymous patient reference), Acme recalls one lot of
//! salbutamol and City Pharmacy acknowledges the recall. Every event is signed by the demo
//! actor that would really make it, through the same admission and ordering as any other
//! event. The history is written once, here; a [`Committer`] says how each step reaches
//! the chain: [`seed`] through one node in process (`serve --demo`), `up --demo` over HTTP
//! at each organisation's own peer.

use crate::node::Node;
use anyhow::{Context, Result, bail};
use ledger::{ActorId, Envelope, EventId, Signer};
use scanners::{Expiry, Gtin, Lot, Serial, Sscc};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use trace::{Code, TraceEvent};

const AMOXICILLIN: &str = "00614141100019";
const METFORMIN: &str = "00614141100026";
const SALBUTAMOL: &str = "00614141100057";
const PACEMAKER: &str = "00860001200010";
const PUMP: &str = "00860001200027";
/// The lot recalled in the demo.
pub const RECALLED_LOT: &str = "SAL2604B";

fn item(gtin: &str, serial: &str) -> Code {
    Code::item(
        Gtin::new(gtin).expect("demo GTIN"),
        Serial::new(serial).expect("demo serial"),
    )
}

fn items(gtin: &str, prefix: &str, range: std::ops::RangeInclusive<u32>) -> Vec<Code> {
    range
        .map(|i| item(gtin, &format!("{prefix}{i:04}")))
        .collect()
}

/// The SSCC of Acme's demo case `n`.
pub fn case(n: u32) -> Sscc {
    let data = format!("00614141{n:09}");
    let check = fixtures::products::check_digit(&data).expect("digits");
    Sscc::new(&format!("{data}{check}")).expect("demo SSCC")
}

fn commission(gtin: &str, lot: &str, expiry: &str, serials: &[Code], device: bool) -> TraceEvent {
    TraceEvent::Commission(trace::Commission {
        gtin: Gtin::new(gtin).expect("demo GTIN"),
        lot: Lot::new(lot).expect("demo lot"),
        expiry: expiry.parse::<Expiry>().expect("demo expiry"),
        serials: serials.iter().filter_map(|c| c.serial().cloned()).collect(),
        device,
        location: None,
    })
}

fn ship(codes: Vec<Code>, to: &str) -> TraceEvent {
    TraceEvent::Ship(trace::Ship {
        codes,
        to: ledger::OrgId::new(to).expect("demo org"),
    })
}

fn receive(codes: Vec<Code>) -> TraceEvent {
    TraceEvent::Receive(trace::Receive {
        codes,
        shipment: None,
    })
}

fn container(n: u32) -> Code {
    Code::Container(case(n))
}

/// One step of the demo history: events that go into the chain together, each with the
/// demo actor who signs it. A step is committed before the next one is signed.
pub struct Step {
    /// What happens, in words a person watching the demo understands.
    pub what: &'static str,
    /// Each event and the actor who makes it.
    pub events: Vec<(&'static str, TraceEvent)>,
}

/// How a step of the demo history reaches the chain: in process through the node's own
/// orderer (`serve --demo`), or over HTTP at each organisation's peer (`up --demo`).
pub trait Committer {
    /// The key `actor` signs with; an error when it is not held here.
    fn signer(&self, actor: &ActorId) -> Result<Arc<Signer>>;
    /// Orders one step's signed events and answers once every one is committed wherever
    /// the next step may be admitted: each event's id and, when it was refused at apply,
    /// the code, in the order given. A refusal at admission is an error.
    fn commit(&mut self, events: Vec<Envelope>) -> Result<Committed>;
}

/// What a committed step left on the chain.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The highest block holding one of the step's events.
    pub height: u64,
    /// Each event's id and, when it was refused at apply, the code.
    pub results: Vec<(EventId, Option<String>)>,
}

/// The steps of the history, up to the recall; [`acknowledgement`] follows it.
fn history() -> Vec<Step> {
    let amx = items(AMOXICILLIN, "AMX", 1..=24);
    let met = items(METFORMIN, "MET", 1..=12);
    let sal = items(SALBUTAMOL, "SAL", 1..=6);
    let pacemakers = items(PACEMAKER, "CP", 1..=3);
    let pumps = items(PUMP, "FS", 1..=2);
    let acme = "acme-pharma/line-1";
    let nw = "northwind/warehouse";
    let pack = |n: u32, children: &[Code]| {
        TraceEvent::Pack(trace::Pack {
            parent: case(n),
            children: children.to_vec(),
        })
    };
    let unpack = |n: u32| {
        TraceEvent::Unpack(trace::Unpack {
            parent: case(n),
            children: vec![],
        })
    };
    let dispense = |c: &Code| {
        TraceEvent::Dispense(trace::Codes {
            codes: vec![c.clone()],
        })
    };
    let patient = hex::encode(Sha256::digest(b"st-mary demo patient key/0001"));
    let step = |what, events| Step { what, events };
    vec![
        step(
            "Acme Pharma and MediDev commission their products",
            vec![
                (
                    acme,
                    commission(AMOXICILLIN, "AMX2601", "2028-06-30", &amx, false),
                ),
                (
                    acme,
                    commission(METFORMIN, "MET2602", "2028-09-30", &met, false),
                ),
                (
                    acme,
                    commission(SALBUTAMOL, RECALLED_LOT, "2027-12-31", &sal, false),
                ),
                (
                    "medidev/qa",
                    commission(PACEMAKER, "CP2601", "2030-01-31", &pacemakers, true),
                ),
                (
                    "medidev/qa",
                    commission(PUMP, "FS2601", "2031-01-31", &pumps, true),
                ),
            ],
        ),
        step(
            "Acme packs four cases",
            vec![
                (acme, pack(1, &amx[..12])),
                (acme, pack(2, &amx[12..])),
                (acme, pack(3, &met)),
                (acme, pack(4, &sal)),
            ],
        ),
        step(
            "Acme ships three cases to Northwind; MediDev ships devices to St Mary's",
            vec![
                (acme, ship([1, 3, 4].map(container).to_vec(), "northwind")),
                ("medidev/qa", ship(pacemakers[..2].to_vec(), "st-mary")),
                ("medidev/qa", ship(pumps.clone(), "st-mary")),
            ],
        ),
        step(
            "Northwind and St Mary's receive them",
            vec![
                (nw, receive([1, 3, 4].map(container).to_vec())),
                (
                    "st-mary/pharmacist",
                    receive(pacemakers[..2].iter().chain(&pumps).cloned().collect()),
                ),
            ],
        ),
        step(
            "Northwind unpacks two cases",
            vec![(nw, unpack(1)), (nw, unpack(4))],
        ),
        step(
            "Northwind ships on to the pharmacies and St Mary's",
            vec![
                (nw, ship(amx[..6].to_vec(), "city-pharmacy")),
                (nw, ship(amx[6..12].to_vec(), "corner-pharmacy")),
                (nw, ship(sal[..3].to_vec(), "city-pharmacy")),
                (nw, ship(sal[3..].to_vec(), "st-mary")),
                (nw, ship(vec![container(3)], "st-mary")),
            ],
        ),
        step(
            "the pharmacies and St Mary's receive them",
            vec![
                (
                    "city-pharmacy/pharmacist",
                    receive(amx[..6].iter().chain(&sal[..3]).cloned().collect()),
                ),
                ("corner-pharmacy/pharmacist", receive(amx[6..12].to_vec())),
                (
                    "st-mary/pharmacist",
                    receive(sal[3..].iter().cloned().chain([container(3)]).collect()),
                ),
            ],
        ),
        step(
            "the pharmacies dispense three packs; St Mary's implants a pacemaker",
            vec![
                ("city-pharmacy/pharmacist", dispense(&amx[0])),
                ("city-pharmacy/pharmacist", dispense(&amx[1])),
                ("corner-pharmacy/pharmacist", dispense(&amx[6])),
                (
                    "st-mary/surgeon",
                    TraceEvent::Implant(trace::Device {
                        code: pacemakers[0].clone(),
                        patient: Some(trace::PatientRef::new(&patient).expect("a keyed hash")),
                    }),
                ),
            ],
        ),
        // Case 2 is on its way to Northwind: a shipment for the demo's warehouse worker.
        step(
            "Acme ships a fourth case to Northwind (left in transit)",
            vec![(acme, ship(vec![container(2)], "northwind"))],
        ),
        step(
            "Acme recalls salbutamol lot SAL2604B",
            vec![(
                "acme-pharma/qa",
                TraceEvent::Recall(trace::Recall {
                    gtin: Gtin::new(SALBUTAMOL).expect("demo GTIN"),
                    lots: vec![Lot::new(RECALLED_LOT).expect("demo lot")],
                    serials: vec![],
                    class: trace::RecallClass::II,
                    depth: trace::RecallDepth::Retail,
                    reason: "Dose counter may over-count; doses may be missed".into(),
                }),
            )],
        ),
    ]
}

/// The last step: City Pharmacy, which holds three recalled inhalers, acknowledges the
/// recall (whose id is the recall event's id, known once it is committed).
fn acknowledgement(recall: EventId) -> Step {
    Step {
        what: "City Pharmacy acknowledges the recall",
        events: vec![(
            "city-pharmacy/pharmacist",
            TraceEvent::Acknowledge(trace::Acknowledge { recall }),
        )],
    }
}

/// Signs a step's events and commits them through `to`; an event refused at apply fails
/// the step.
fn commit(to: &mut impl Committer, step: &Step) -> Result<Committed> {
    let mut envelopes = Vec::with_capacity(step.events.len());
    for (actor, event) in &step.events {
        let id = ActorId::new(*actor).expect("demo actor id");
        envelopes.push(
            to.signer(&id)?
                .event(trace::MODULE, event.kind(), event.payload()),
        );
    }
    let done = to
        .commit(envelopes)
        .with_context(|| format!("committing \"{}\"", step.what))?;
    if done.results.len() != step.events.len() {
        bail!(
            "\"{}\": {} events sent, {} answered",
            step.what,
            step.events.len(),
            done.results.len()
        );
    }
    for ((_, event), (_, code)) in step.events.iter().zip(&done.results) {
        if let Some(code) = code {
            bail!(
                "\"{}\": the {} event was refused at apply: {code}",
                step.what,
                event.kind()
            );
        }
    }
    Ok(done)
}

/// Writes the whole demo history through `to`, step by step, calling `progress` with the
/// step's number (from 1), the number of steps, the step and what it left on the chain.
/// Returns the number of events written.
pub fn write(
    to: &mut impl Committer,
    mut progress: impl FnMut(usize, usize, &Step, &Committed),
) -> Result<usize> {
    let steps = history();
    let total = steps.len() + 1;
    let mut count = 0;
    let mut recall = None;
    for (n, step) in steps.iter().enumerate() {
        let done = commit(to, step)?;
        count += done.results.len();
        progress(n + 1, total, step, &done);
        let recalled = step
            .events
            .iter()
            .zip(&done.results)
            .find_map(|((_, e), (id, _))| matches!(e, TraceEvent::Recall(_)).then_some(*id));
        recall = recall.or(recalled);
    }
    let ack = acknowledgement(recall.context("the demo history issues no recall")?);
    let done = commit(to, &ack)?;
    count += done.results.len();
    progress(total, total, &ack, &done);
    Ok(count)
}

/// Commits in process: signed with the node's custodial keys, admitted by its ledger and
/// ordered by its own orderer.
struct InProcess<'a>(&'a Node);

impl Committer for InProcess<'_> {
    fn signer(&self, actor: &ActorId) -> Result<Arc<Signer>> {
        self.0
            .signers
            .get(actor)
            .cloned()
            .with_context(|| format!("the demo peer holds no key for {actor}"))
    }

    fn commit(&mut self, events: Vec<Envelope>) -> Result<Committed> {
        let kinds: Vec<String> = events.iter().map(|e| e.kind().to_string()).collect();
        let admitted = self
            .0
            .ledger
            .admit(events)
            .into_iter()
            .zip(&kinds)
            .map(|(a, kind)| a.map_err(|r| anyhow::anyhow!("demo event {kind} refused: {r}")))
            .collect::<Result<Vec<_>>>()?;
        let (tx, rx) = std::sync::mpsc::channel();
        self.0
            .orderer
            .submit(admitted, Box::new(move |r| drop(tx.send(r))));
        let receipt = rx
            .recv_timeout(Duration::from_secs(30))
            .context("the demo history was not committed in time")?
            .map_err(|r| anyhow::anyhow!("ordering the demo history failed: {r}"))?;
        Ok(Committed {
            height: receipt.block_height,
            results: receipt.results,
        })
    }
}

/// Writes the demo history into an empty chain of this one node; returns the number of
/// events.
pub fn seed(node: &Node) -> Result<usize> {
    write(&mut InProcess(node), |n, total, step, done| {
        tracing::debug!(
            step = n,
            of = total,
            height = done.height,
            "demo: {}",
            step.what
        );
    })
}
