//! Stable rejection codes of the trace module (besides the core's `BAD_PAYLOAD`,
//! `UNKNOWN_KIND`, `FORBIDDEN`). Clients match on these, never on message text.

/// Only the organisation owning the GTIN's GS1 company prefix may commission it.
pub const NOT_BRAND_OWNER: &str = "NOT_BRAND_OWNER";
/// The serial is already commissioned for this GTIN.
pub const SERIAL_EXISTS: &str = "SERIAL_EXISTS";
/// The same code appears twice in one event.
pub const DUPLICATE_CODE: &str = "DUPLICATE_CODE";
/// An event carries no codes, or more than [`crate::MAX_CODES`].
pub const CODE_COUNT: &str = "CODE_COUNT";
/// The lot was commissioned before with another expiry.
pub const LOT_EXPIRY_CONFLICT: &str = "LOT_EXPIRY_CONFLICT";
/// The GTIN was commissioned before as a drug (or a device) and now as the other.
pub const PRODUCT_KIND_MISMATCH: &str = "PRODUCT_KIND_MISMATCH";
/// The GLN given is not one of the organisation's.
pub const UNKNOWN_LOCATION: &str = "UNKNOWN_LOCATION";
/// No unit with this code is on the ledger.
pub const UNKNOWN_CODE: &str = "UNKNOWN_CODE";
/// The organisation does not hold the unit.
pub const NOT_HOLDER: &str = "NOT_HOLDER";
/// The unit is inside a container: it moves with it, or is unpacked first.
pub const PACKED: &str = "PACKED";
/// Packing would put a container inside itself.
pub const PACK_CYCLE: &str = "PACK_CYCLE";
/// The unit is not a child of that container.
pub const NOT_IN_CONTAINER: &str = "NOT_IN_CONTAINER";
/// The unit is in transit: it must be received first.
pub const IN_TRANSIT: &str = "IN_TRANSIT";
/// The unit's status does not allow this (installed, implanted, explanted...).
pub const NOT_ACTIVE: &str = "NOT_ACTIVE";
/// The unit was dispensed.
pub const ALREADY_DISPENSED: &str = "ALREADY_DISPENSED";
/// The unit was decommissioned.
pub const DECOMMISSIONED: &str = "DECOMMISSIONED";
/// The unit (or one inside it) is quarantined.
pub const QUARANTINED: &str = "QUARANTINED";
/// The unit (or one inside it) is expired at block time.
pub const EXPIRED: &str = "EXPIRED";
/// The unit (or one inside it) is under recall.
pub const RECALLED: &str = "RECALLED";
/// The organisation named is not a consortium member.
pub const UNKNOWN_ORG: &str = "UNKNOWN_ORG";
/// A shipment to oneself.
pub const SHIP_TO_SELF: &str = "SHIP_TO_SELF";
/// No such shipment.
pub const UNKNOWN_SHIPMENT: &str = "UNKNOWN_SHIPMENT";
/// Only the shipment's named receiver may receive it.
pub const NOT_RECEIVER: &str = "NOT_RECEIVER";
/// Nothing scanned belongs to a shipment to this organisation.
pub const NOTHING_TO_RECEIVE: &str = "NOTHING_TO_RECEIVE";
/// The organisation's role may not do this (dispense, install, implant).
pub const ROLE_NOT_ALLOWED: &str = "ROLE_NOT_ALLOWED";
/// An SSCC where a serialised item is needed.
pub const NOT_AN_ITEM: &str = "NOT_AN_ITEM";
/// The GTIN is not a device's.
pub const NOT_A_DEVICE: &str = "NOT_A_DEVICE";
/// The patient reference is not a 64-hex keyed hash.
pub const BAD_PATIENT_REF: &str = "BAD_PATIENT_REF";
/// Implant and explant need a patient reference.
pub const PATIENT_REQUIRED: &str = "PATIENT_REQUIRED";
/// Install and service must not carry a patient reference.
pub const PATIENT_NOT_ALLOWED: &str = "PATIENT_NOT_ALLOWED";
/// The explanting hospital's reference differs from the one it implanted with.
pub const PATIENT_MISMATCH: &str = "PATIENT_MISMATCH";
/// The device is not implanted.
pub const NOT_IMPLANTED: &str = "NOT_IMPLANTED";
/// The device is not installed.
pub const NOT_INSTALLED: &str = "NOT_INSTALLED";
/// The unit is not decommissioned.
pub const NOT_DECOMMISSIONED: &str = "NOT_DECOMMISSIONED";
/// More than ten days passed since the decommission.
pub const UNDO_WINDOW_CLOSED: &str = "UNDO_WINDOW_CLOSED";
/// An undo must be made by the same organisation at the same location.
pub const UNDO_WRONG_LOCATION: &str = "UNDO_WRONG_LOCATION";
/// Destroyed and stolen units, and expired or recalled ones, cannot be reverted.
pub const UNDO_NOT_ALLOWED: &str = "UNDO_NOT_ALLOWED";
/// The unit is already quarantined.
pub const ALREADY_QUARANTINED: &str = "ALREADY_QUARANTINED";
/// The unit is not quarantined.
pub const NOT_QUARANTINED: &str = "NOT_QUARANTINED";
/// Only the brand owner or a regulator may issue a recall.
pub const RECALL_NOT_ALLOWED: &str = "RECALL_NOT_ALLOWED";
/// The GTIN was never commissioned.
pub const UNKNOWN_PRODUCT: &str = "UNKNOWN_PRODUCT";
/// No unit of the GTIN carries that lot.
pub const UNKNOWN_LOT: &str = "UNKNOWN_LOT";
/// The serial was never commissioned for the GTIN.
pub const UNKNOWN_SERIAL: &str = "UNKNOWN_SERIAL";
/// No such recall.
pub const UNKNOWN_RECALL: &str = "UNKNOWN_RECALL";
/// The organisation held no unit of the recall.
pub const NOT_AFFECTED: &str = "NOT_AFFECTED";
/// The organisation already acknowledged the recall.
pub const ALREADY_ACKNOWLEDGED: &str = "ALREADY_ACKNOWLEDGED";
/// The item is not one of the recall's.
pub const NOT_IN_RECALL: &str = "NOT_IN_RECALL";
/// A disposition was already recorded for the item.
pub const ALREADY_ACCOUNTED: &str = "ALREADY_ACCOUNTED";
/// The EPCIS event (by its CBV 2.0 hash) was imported before; the message names the
/// ledger event it became.
pub const DUPLICATE_EPCIS_EVENT: &str = "DUPLICATE_EPCIS_EVENT";
/// The payload's `epcis_hash` is not a CBV 2.0 event hash ID.
pub const BAD_EPCIS_HASH: &str = "BAD_EPCIS_HASH";
