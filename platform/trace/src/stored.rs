//! The stored form of a [`Unit`], the record every custody event reads and writes: a
//! small binary layout instead of JSON, because reading a unit's JSON (its status is an
//! internally tagged enum) cost more than the rest of a dispense's rules, and the record
//! is kept for every unit ever commissioned.
//!
//! Layout: version byte `1`, flags (quarantined, parent, lot, expiry, dispense), holder,
//! status, then the parent SSCC, lot and expiry when flagged, and last the dispense record
//! when flagged (a length byte, then [`DispenseRecord::encode`]'s form). Strings are a
//! length byte and UTF-8; the expiry is year (2 bytes, big-endian), month, day. A status
//! is a tag byte and its fields; a decommissioned status carries the status before it. The
//! encoding is a function of the value alone, so every peer writes the same bytes. Values
//! that start with `{` are read as the JSON of earlier versions.

use crate::code::PatientRef;
use crate::events::Reason;
use crate::state::{DispenseRecord, Status, Unit};
use ledger::{EventId, OrgId};
use scanners::{Expiry, Gln, Lot, Sscc};

const VERSION: u8 = 1;
const QUARANTINED: u8 = 1;
const PARENT: u8 = 2;
const LOT: u8 = 4;
const EXPIRY: u8 = 8;
const DISPENSE: u8 = 16;
/// Deepest chain of decommissioned-from statuses read back (a guard against bad bytes).
const MAX_NESTING: usize = 8;

/// The bytes stored for `unit`.
pub(crate) fn encode(unit: &Unit) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    out.push(VERSION);
    let flag = |on: bool, bit: u8| if on { bit } else { 0 };
    let flags = flag(unit.quarantined, QUARANTINED)
        | flag(unit.parent.is_some(), PARENT)
        | flag(unit.lot.is_some(), LOT)
        | flag(unit.expiry.is_some(), EXPIRY)
        | flag(unit.dispense.is_some(), DISPENSE);
    out.push(flags);
    text(&mut out, unit.holder.as_str());
    status(&mut out, &unit.status);
    if let Some(p) = &unit.parent {
        text(&mut out, p.as_str());
    }
    if let Some(l) = &unit.lot {
        text(&mut out, l.as_str());
    }
    if let Some(e) = &unit.expiry {
        out.extend_from_slice(&e.year().to_be_bytes());
        out.push(e.month());
        out.push(e.day());
    }
    if let Some(d) = &unit.dispense {
        let record = d.encode();
        // kind, id, time and an organisation id of at most 64 bytes
        out.push(u8::try_from(record.len()).expect("a dispense record is short"));
        out.extend_from_slice(&record);
    }
    out
}

/// Reads what [`encode`] wrote (or the JSON of earlier versions); `None` for anything else.
pub(crate) fn decode(bytes: &[u8]) -> Option<Unit> {
    match bytes.first()? {
        b'{' => serde_json::from_slice(bytes).ok(),
        &VERSION => {
            let mut r = Reader(&bytes[1..]);
            let flags = r.byte()?;
            let holder = OrgId::new(r.text()?).ok()?;
            let status = r.status(0)?;
            // identifiers were checked before this module wrote them; read them back as such
            let parent = if flags & PARENT != 0 {
                Some(Sscc::from_checked(r.text()?))
            } else {
                None
            };
            let lot = if flags & LOT != 0 {
                Some(Lot::from_checked(r.text()?))
            } else {
                None
            };
            let expiry = if flags & EXPIRY != 0 {
                let year = u16::from_be_bytes([r.byte()?, r.byte()?]);
                Some(Expiry::from_ymd(year, r.byte()?, r.byte()?).ok()?)
            } else {
                None
            };
            let dispense = if flags & DISPENSE != 0 {
                let n = r.byte()?;
                Some(DispenseRecord::decode(r.take(usize::from(n))?)?)
            } else {
                None
            };
            r.0.is_empty().then_some(Unit {
                holder,
                status,
                quarantined: flags & QUARANTINED != 0,
                parent,
                lot,
                expiry,
                dispense,
            })
        }
        _ => None,
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    // every identifier stored here is far shorter than 256 bytes
    out.push(u8::try_from(s.len()).expect("identifiers are short"));
    out.extend_from_slice(s.as_bytes());
}

fn status(out: &mut Vec<u8>, s: &Status) {
    match s {
        Status::Active => out.push(0),
        Status::InTransit { shipment, to } => {
            out.push(1);
            out.extend_from_slice(shipment.as_bytes());
            text(out, to.as_str());
        }
        Status::Dispensed => out.push(2),
        Status::Installed => out.push(3),
        Status::Implanted { patient } => {
            out.push(4);
            text(out, patient.as_str());
        }
        Status::Explanted => out.push(5),
        Status::Decommissioned {
            reason,
            at,
            location,
            previous,
        } => {
            out.push(6);
            out.push(reason_byte(*reason));
            out.extend_from_slice(&at.to_be_bytes());
            text(out, location.as_ref().map_or("", |g| g.as_str()));
            status(out, previous);
        }
    }
}

fn reason_byte(r: Reason) -> u8 {
    match r {
        Reason::Destroyed => 0,
        Reason::Sample => 1,
        Reason::Stolen => 2,
        Reason::Exported => 3,
        Reason::Expired => 4,
        Reason::Damaged => 5,
    }
}

fn reason_of(b: u8) -> Option<Reason> {
    Some(match b {
        0 => Reason::Destroyed,
        1 => Reason::Sample,
        2 => Reason::Stolen,
        3 => Reason::Exported,
        4 => Reason::Expired,
        5 => Reason::Damaged,
        _ => return None,
    })
}

struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn text(&mut self) -> Option<&'b str> {
        let n = self.byte()?;
        std::str::from_utf8(self.take(usize::from(n))?).ok()
    }

    fn status(&mut self, depth: usize) -> Option<Status> {
        Some(match self.byte()? {
            0 => Status::Active,
            1 => Status::InTransit {
                shipment: EventId::from_slice(self.take(32)?)?,
                to: OrgId::new(self.text()?).ok()?,
            },
            2 => Status::Dispensed,
            3 => Status::Installed,
            4 => Status::Implanted {
                patient: PatientRef::new(self.text()?).ok()?,
            },
            5 => Status::Explanted,
            6 if depth < MAX_NESTING => {
                let reason = reason_of(self.byte()?)?;
                let at = i64::from_be_bytes(self.take(8)?.try_into().ok()?);
                let location = match self.text()? {
                    "" => None,
                    g => Some(Gln::new(g).ok()?),
                };
                Status::Decommissioned {
                    reason,
                    at,
                    location,
                    previous: Box::new(self.status(depth + 1)?),
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    fn units() -> Vec<Unit> {
        let base = Unit {
            holder: org("acme-pharma"),
            status: Status::Active,
            quarantined: false,
            parent: None,
            lot: None,
            expiry: None,
            dispense: None,
        };
        let statuses = vec![
            Status::Active,
            Status::InTransit {
                shipment: EventId([3; 32]),
                to: org("northwind"),
            },
            Status::Dispensed,
            Status::Installed,
            Status::Implanted {
                patient: PatientRef::new(&"0f".repeat(32)).unwrap(),
            },
            Status::Explanted,
            Status::Decommissioned {
                reason: Reason::Stolen,
                at: -1,
                location: None,
                previous: Box::new(Status::InTransit {
                    shipment: EventId([9; 32]),
                    to: org("st-mary"),
                }),
            },
            Status::Decommissioned {
                reason: Reason::Damaged,
                at: 1_767_225_600_000,
                location: Some(Gln::new("0614141000005").unwrap()),
                previous: Box::new(Status::Explanted),
            },
        ];
        let mut out = Vec::new();
        for (i, status) in statuses.into_iter().enumerate() {
            out.push(Unit {
                status: status.clone(),
                ..base.clone()
            });
            out.push(Unit {
                holder: org("city-pharmacy"),
                status,
                quarantined: i % 2 == 0,
                parent: (i % 3 == 0).then(|| Sscc::new("006141410000000012").unwrap()),
                lot: Some(Lot::new("L-1/2").unwrap()),
                expiry: (i % 2 == 1).then(|| "2031-12-31".parse().unwrap()),
                dispense: (i % 2 == 0).then(|| DispenseRecord {
                    event: EventId([i as u8; 32]),
                    kind: "dispense".into(),
                    org: org("city-pharmacy"),
                    time: 1_767_225_600_000 + i as i64,
                }),
            });
        }
        out
    }

    #[test]
    fn every_unit_reads_back_and_truncations_do_not() {
        for u in units() {
            let b = encode(&u);
            assert_eq!(decode(&b).as_ref(), Some(&u));
            for cut in 0..b.len() {
                assert_eq!(decode(&b[..cut]), None, "{u:?} cut at {cut}");
            }
            let mut longer = b.clone();
            longer.push(0);
            assert_eq!(decode(&longer), None);
        }
    }

    #[test]
    fn json_of_earlier_versions_still_reads() {
        for u in units() {
            let json = serde_json::to_vec(&u).unwrap();
            assert_eq!(decode(&json), Some(u));
        }
    }

    #[test]
    fn the_same_unit_always_gives_the_same_bytes() {
        for u in units() {
            assert_eq!(encode(&u), encode(&u.clone()));
        }
    }
}
