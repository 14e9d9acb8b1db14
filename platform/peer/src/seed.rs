//! A believable demo history, written once when `serve --demo` starts on an empty chain:
//! Acme Pharma and MediDev commission products, Acme packs cases and ships them to
//! Northwind (one case is still on its way), which receives, unpacks and ships on to the pharmacies and St Mary's; some
//! packs are dispensed, a pacemaker is implanted (pseudonymous patient reference), and
//! Acme recalls one lot of salbutamol. Every event is signed by the demo actor that would
//! really make it, through the same admission and ordering as any other event.

use crate::node::Node;
use anyhow::{Context, Result, bail};
use ledger::{ActorId, Receipt};
use scanners::{Expiry, Gtin, Lot, Serial, Sscc};
use sha2::{Digest, Sha256};
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

/// The steps of the history: each is committed before the next one is signed.
fn history() -> Vec<Vec<(&'static str, TraceEvent)>> {
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
    vec![
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
        vec![
            (acme, pack(1, &amx[..12])),
            (acme, pack(2, &amx[12..])),
            (acme, pack(3, &met)),
            (acme, pack(4, &sal)),
        ],
        vec![
            (acme, ship([1, 3, 4].map(container).to_vec(), "northwind")),
            ("medidev/qa", ship(pacemakers[..2].to_vec(), "st-mary")),
            ("medidev/qa", ship(pumps.clone(), "st-mary")),
        ],
        vec![
            (nw, receive([1, 3, 4].map(container).to_vec())),
            (
                "st-mary/pharmacist",
                receive(pacemakers[..2].iter().chain(&pumps).cloned().collect()),
            ),
        ],
        vec![(nw, unpack(1)), (nw, unpack(4))],
        vec![
            (nw, ship(amx[..6].to_vec(), "city-pharmacy")),
            (nw, ship(amx[6..12].to_vec(), "corner-pharmacy")),
            (nw, ship(sal[..3].to_vec(), "city-pharmacy")),
            (nw, ship(sal[3..].to_vec(), "st-mary")),
            (nw, ship(vec![container(3)], "st-mary")),
        ],
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
        // Case 2 is on its way to Northwind: a shipment for the demo's warehouse worker.
        vec![(acme, ship(vec![container(2)], "northwind"))],
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
    ]
}

fn commit(node: &Node, step: &[(&str, TraceEvent)]) -> Result<Receipt> {
    let mut envelopes = Vec::with_capacity(step.len());
    for (actor, event) in step {
        let id = ActorId::new(*actor).expect("demo actor id");
        let signer = node
            .signers
            .get(&id)
            .with_context(|| format!("the demo peer holds no key for {actor}"))?;
        envelopes.push(signer.event(trace::MODULE, event.kind(), event.payload()));
    }
    let admitted = node
        .ledger
        .admit(envelopes)
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.map_err(|r| anyhow::anyhow!("demo event {} refused: {r}", step[i].1.kind()))
        })
        .collect::<Result<Vec<_>>>()?;
    let (tx, rx) = std::sync::mpsc::channel();
    node.orderer
        .submit(admitted, Box::new(move |r| drop(tx.send(r))));
    let receipt = rx
        .recv_timeout(Duration::from_secs(30))
        .context("the demo history was not committed in time")?
        .map_err(|r| anyhow::anyhow!("ordering the demo history failed: {r}"))?;
    if let Some((_, Some(code))) = receipt.results.iter().find(|(_, c)| c.is_some()) {
        bail!("a demo event was refused at apply: {code}");
    }
    Ok(receipt)
}

/// Writes the demo history into an empty chain; returns the number of events.
pub fn seed(node: &Node) -> Result<usize> {
    let mut count = 0;
    for step in history() {
        count += commit(node, &step)?.results.len();
    }
    let city = ledger::OrgId::new("city-pharmacy").expect("demo org");
    if let Some(r) = trace::recalls(&node.ledger, Some(true))?.first()
        && r.holders.iter().any(|h| h.org == city)
    {
        let ack = TraceEvent::Acknowledge(trace::Acknowledge { recall: r.id });
        count += commit(node, &[("city-pharmacy/pharmacist", ack)])?
            .results
            .len();
    }
    Ok(count)
}
