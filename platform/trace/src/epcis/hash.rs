//! The CBV 2.0 EPCIS event hash ID: a pre-hash string of the event's fields in the
//! canonical order, values in their normal forms (see [`super::uri`]), lists sorted,
//! user extensions as `{namespace}name=value` sorted at the end; then
//! `ni:///sha-256;<hex>?ver=CBV2.0`.
//!
//! Covered: object, aggregation, transaction and transformation events with EPC and
//! quantity lists, action, bizStep, disposition, persistent disposition, read point,
//! business location, business transactions, sources, destinations and user
//! extensions, ILMD, certification info and sensor data. A field it does not know
//! without a namespace makes [`prehash`] say so instead of guessing.

use super::uri::{cbv, epc, number, timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An event the hash does not cover, or a field that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EPCIS_UNSUPPORTED: {0}")]
pub struct Unsupported(pub String);

/// Namespace prefixes of a JSON-LD document (`prefix` → IRI), from its `@context`.
#[derive(Debug, Clone)]
pub struct Prefixes(BTreeMap<String, String>);

impl Default for Prefixes {
    /// The usual prefixes: `gs1`, `rdfs`, `schema`, `cbv`, `cbvmda`.
    fn default() -> Self {
        Self::of_document(&Value::Null)
    }
}

impl Prefixes {
    /// The prefixes a document's `@context` declares, over the usual ones.
    pub fn of_document(doc: &Value) -> Self {
        let mut map: BTreeMap<String, String> = [
            ("gs1", "https://gs1.org/voc/"),
            ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
            ("schema", "http://schema.org/"),
            ("cbv", "https://ref.gs1.org/cbv/"),
            ("cbvmda", "urn:epcglobal:cbv:mda:"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let ctx = doc.get("@context");
        let items: Vec<&Value> = match ctx {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => vec![v],
            None => vec![],
        };
        for item in items {
            if let Value::Object(o) = item {
                for (k, v) in o {
                    if let Some(iri) = v.as_str().or_else(|| v.get("@id").and_then(Value::as_str)) {
                        map.insert(k.clone(), iri.to_string());
                    }
                }
            }
        }
        Self(map)
    }

    /// A CURIE value (`gs1:Temperature`) as its full IRI; other values as given.
    fn expand_value(&self, value: &str) -> String {
        match value.split_once(':') {
            Some((prefix, local)) if !local.starts_with("//") => match self.0.get(prefix) {
                Some(iri) => format!("{iri}{local}"),
                None => value.to_string(),
            },
            _ => value.to_string(),
        }
    }

    fn expand(&self, key: &str) -> Option<String> {
        let (prefix, local) = key.split_once(':')?;
        Some(format!("{{{}}}{local}", self.0.get(prefix)?))
    }
}

/// Fields outside the hash: record keeping (`recordTime`, `eventID`, a repository's
/// `captureID` and `hash` bookkeeping, as the reference vectors show), comments and the
/// error declaration (a corrected event keeps its hash).
const IGNORED: &[&str] = &[
    "recordTime",
    "eventID",
    "@context",
    "rdfs:comment",
    "errorDeclaration",
];
const IGNORED_LOCAL: &[&str] = &["captureID", "hash"];

/// Sensor metadata fields in order, and whether each is an identifier to normalise.
const SENSOR_METADATA: &[(&str, Kind)] = &[
    ("time", Kind::Time),
    ("startTime", Kind::Time),
    ("endTime", Kind::Time),
    ("deviceID", Kind::Epc),
    ("deviceMetadata", Kind::Epc),
    ("rawData", Kind::Epc),
    ("dataProcessingMethod", Kind::Epc),
    ("bizRules", Kind::Epc),
];

/// Sensor report fields in order.
const SENSOR_REPORT: &[(&str, Kind)] = &[
    ("type", Kind::Vocabulary),
    ("exception", Kind::Vocabulary),
    ("deviceID", Kind::Epc),
    ("deviceMetadata", Kind::Epc),
    ("rawData", Kind::Epc),
    ("dataProcessingMethod", Kind::Epc),
    ("time", Kind::Time),
    ("microorganism", Kind::Plain),
    ("chemicalSubstance", Kind::Plain),
    ("value", Kind::Plain),
    ("component", Kind::Vocabulary),
    ("stringValue", Kind::Plain),
    ("booleanValue", Kind::Plain),
    ("hexBinaryValue", Kind::Plain),
    ("uriValue", Kind::Plain),
    ("minValue", Kind::Plain),
    ("maxValue", Kind::Plain),
    ("meanValue", Kind::Plain),
    ("sDev", Kind::Plain),
    ("percRank", Kind::Plain),
    ("percValue", Kind::Plain),
    ("uom", Kind::Plain),
    ("coordinateReferenceSystem", Kind::Plain),
];

#[derive(Clone, Copy)]
enum Kind {
    Time,
    Epc,
    Vocabulary,
    Plain,
}

/// Known fields of a sensor object in order, then its extensions.
fn sensor_part(
    p: &Prefixes,
    name: &str,
    v: &Value,
    fields: &[(&str, Kind)],
) -> Result<String, Unsupported> {
    let o = v
        .as_object()
        .ok_or_else(|| Unsupported(format!("{name} is an object")))?;
    let mut s = name.to_string();
    for (field, kind) in fields {
        let Some(value) = o.get(*field).and_then(scalar) else {
            continue;
        };
        let value = match kind {
            Kind::Time => {
                timestamp(&value).ok_or_else(|| Unsupported(format!("{field} {value:?}")))?
            }
            Kind::Epc => epc(&value),
            Kind::Vocabulary if !value.contains(':') => format!("https://gs1.org/voc/{value}"),
            Kind::Vocabulary => p.expand_value(&value),
            Kind::Plain => value,
        };
        s += &format!("{field}={value}");
    }
    let known: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
    Ok(s + &extensions(p, o, &known)?)
}

fn sensors(p: &Prefixes, v: Option<&Value>) -> Result<String, Unsupported> {
    let Some(Value::Array(elements)) = v else {
        return Ok(String::new());
    };
    let mut out = Vec::new();
    for el in elements {
        let mut s = String::from("sensorElement");
        if let Some(m) = el.get("sensorMetadata") {
            s += &sensor_part(p, "sensorMetadata", m, SENSOR_METADATA)?;
        }
        let mut reports = Vec::new();
        let all = el.get("sensorReport").and_then(Value::as_array);
        for r in all.into_iter().flatten() {
            reports.push(sensor_part(p, "sensorReport", r, SENSOR_REPORT)?);
        }
        reports.sort();
        s += &reports.concat();
        if let Some(o) = el.as_object() {
            s += &extensions(p, o, &["sensorMetadata", "sensorReport"])?;
        }
        out.push(s);
    }
    out.sort();
    Ok(format!("sensorElementList{}", out.concat()))
}
const EPC_LISTS: &[&str] = &["epcList", "parentID", "inputEPCList", "childEPCs"];
const QUANTITY_LISTS: &[&str] = &["quantityList", "childQuantityList", "inputQuantityList"];

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(number(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    }
}

fn epc_list(name: &str, v: Option<&Value>) -> String {
    let mut items: Vec<String> = strings(v)
        .into_iter()
        .map(|e| format!("epc={}", epc(e)))
        .collect();
    if items.is_empty() {
        return String::new();
    }
    items.sort();
    format!("{name}{}", items.concat())
}

fn quantity_list(name: &str, v: Option<&Value>) -> String {
    let Some(Value::Array(a)) = v else {
        return String::new();
    };
    let mut items: Vec<String> = a
        .iter()
        .map(|q| {
            let mut s = String::from("quantityElement");
            if let Some(c) = q.get("epcClass").and_then(Value::as_str) {
                s += &format!("epcClass={}", epc(c));
            }
            if let Some(n) = q.get("quantity").and_then(scalar) {
                s += &format!("quantity={n}");
            }
            if let Some(u) = q.get("uom").and_then(scalar) {
                s += &format!("uom={u}");
            }
            s
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    items.sort();
    format!("{name}{}", items.concat())
}

fn typed_list(name: &str, child: &str, kind: &str, v: Option<&Value>) -> String {
    let Some(Value::Array(a)) = v else {
        return String::new();
    };
    let mut items: Vec<String> = a
        .iter()
        .map(|x| {
            let t = x
                .get("type")
                .and_then(Value::as_str)
                .map(|t| format!("type={}", cbv(kind, t)));
            let value = x
                .get(child)
                .and_then(Value::as_str)
                .map(|s| format!("{child}={}", epc(s)));
            format!("{}{}", t.unwrap_or_default(), value.unwrap_or_default())
        })
        .collect();
    items.sort();
    format!("{name}{}", items.concat())
}

fn extension(p: &Prefixes, key: &str, v: &Value) -> Result<Vec<String>, Unsupported> {
    let name = p
        .expand(key)
        .ok_or_else(|| Unsupported(format!("field {key:?} has no known namespace")))?;
    Ok(match v {
        Value::Array(a) => {
            let mut out = Vec::new();
            for x in a {
                out.extend(extension(p, key, x)?);
            }
            out
        }
        Value::Object(o) => vec![format!("{name}{}", extensions(p, o, &[])?)],
        other => vec![format!("{name}={}", scalar(other).unwrap_or_default())],
    })
}

/// The user extensions of an object (namespaced keys), sorted and joined.
fn extensions(p: &Prefixes, o: &Map<String, Value>, skip: &[&str]) -> Result<String, Unsupported> {
    let mut out = Vec::new();
    for (k, v) in o {
        let local = k.rsplit(':').next().unwrap_or_default();
        if skip.contains(&k.as_str())
            || IGNORED.contains(&k.as_str())
            || IGNORED_LOCAL.contains(&local)
        {
            continue;
        }
        if !k.contains(':') {
            return Err(Unsupported(format!("field {k:?} is not covered")));
        }
        out.extend(extension(p, k, v)?);
    }
    out.sort();
    Ok(out.concat())
}

fn location(p: &Prefixes, name: &str, v: Option<&Value>) -> Result<String, Unsupported> {
    let Some(Value::Object(o)) = v else {
        return Ok(String::new());
    };
    let id = o
        .get("id")
        .and_then(Value::as_str)
        .map(|i| format!("id={}", epc(i)));
    Ok(format!(
        "{name}{}{}",
        id.unwrap_or_default(),
        extensions(p, o, &["id"])?
    ))
}

const ORDERED: &[&str] = &[
    "type",
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "sensorElementList",
    "epcList",
    "parentID",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "ilmd",
];

/// The canonical pre-hash string of one JSON-LD event.
pub fn prehash(event: &Value, p: &Prefixes) -> Result<String, Unsupported> {
    let o = event
        .as_object()
        .ok_or_else(|| Unsupported("an event is a JSON object".into()))?;
    let get = |k: &str| o.get(k);
    let text = |k: &str| get(k).and_then(scalar);
    let mut s = String::new();
    s += &format!("eventType={}", text("type").unwrap_or_default());
    if let Some(t) = text("eventTime") {
        let t = timestamp(&t).ok_or_else(|| Unsupported(format!("eventTime {t:?}")))?;
        s += &format!("eventTime={t}");
    }
    if let Some(z) = text("eventTimeZoneOffset") {
        s += &format!("eventTimeZoneOffset={z}");
    }
    if let Some(c) = text("certificationInfo") {
        s += &format!("certificationInfo={c}");
    }
    s += &epc_list("epcList", get("epcList"));
    if let Some(parent) = text("parentID") {
        s += &format!("parentID={}", epc(&parent));
    }
    for name in EPC_LISTS.iter().skip(2) {
        s += &epc_list(name, get(name));
    }
    for name in QUANTITY_LISTS {
        s += &quantity_list(name, get(name));
    }
    s += &epc_list("outputEPCList", get("outputEPCList"));
    s += &quantity_list("outputQuantityList", get("outputQuantityList"));
    if let Some(v) = text("action") {
        s += &format!("action={v}");
    }
    if let Some(v) = text("transformationID") {
        s += &format!("transformationID={}", epc(&v));
    }
    if let Some(v) = text("bizStep") {
        s += &format!("bizStep={}", cbv("BizStep", &v));
    }
    if let Some(v) = text("disposition") {
        s += &format!("disposition={}", cbv("Disp", &v));
    }
    if let Some(pd) = get("persistentDisposition") {
        s += "persistentDisposition";
        for part in ["set", "unset"] {
            let mut v: Vec<String> = strings(pd.get(part))
                .into_iter()
                .map(|d| format!("{part}={}", cbv("Disp", d)))
                .collect();
            v.sort();
            s += &v.concat();
        }
    }
    s += &location(p, "readPoint", get("readPoint"))?;
    s += &location(p, "bizLocation", get("bizLocation"))?;
    s += &typed_list(
        "bizTransactionList",
        "bizTransaction",
        "BTT",
        get("bizTransactionList"),
    );
    // destinations before sources, as the reference vectors have them
    s += &typed_list(
        "destinationList",
        "destination",
        "SDT",
        get("destinationList"),
    );
    s += &typed_list("sourceList", "source", "SDT", get("sourceList"));
    s += &sensors(p, get("sensorElementList"))?;
    if let Some(Value::Object(ilmd)) = get("ilmd") {
        s += &format!("ilmd{}", extensions(p, ilmd, &[])?);
    }
    s += &extensions(p, o, ORDERED)?;
    Ok(s)
}

/// The event hash ID of one JSON-LD event: `ni:///sha-256;<hex>?ver=CBV2.0`.
pub fn event_hash(event: &Value, p: &Prefixes) -> Result<String, Unsupported> {
    EpcisHash::of(event, p).map(|h| h.0)
}

const HASH_PREFIX: &str = "ni:///sha-256;";
const HASH_SUFFIX: &str = "?ver=CBV2.0";

/// A CBV 2.0 event hash ID, `ni:///sha-256;<64 lowercase hex>?ver=CBV2.0`: the identity
/// of an EPCIS event whatever system captured it. Checked once when made or read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EpcisHash(String);

/// A text that is not a CBV 2.0 event hash ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CBV 2.0 event hash (ni:///sha-256;<64 lowercase hex>?ver=CBV2.0)")]
pub struct BadEpcisHash(pub String);

impl EpcisHash {
    /// The hash ID of one JSON-LD event, with the prefixes of its document.
    pub fn of(event: &Value, p: &Prefixes) -> Result<Self, Unsupported> {
        let pre = prehash(event, p)?;
        Ok(Self(format!(
            "{HASH_PREFIX}{}{HASH_SUFFIX}",
            ledger::hash::sha256(pre.as_bytes()).to_hex()
        )))
    }

    /// The whole URI.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest, 64 lowercase hex digits.
    pub fn digest(&self) -> &str {
        &self.0[HASH_PREFIX.len()..HASH_PREFIX.len() + 64]
    }
}

impl std::str::FromStr for EpcisHash {
    type Err = BadEpcisHash;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix(HASH_PREFIX)
            .and_then(|r| r.strip_suffix(HASH_SUFFIX));
        match hex {
            Some(h)
                if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Ok(Self(s.to_string()))
            }
            _ => Err(BadEpcisHash(s.chars().take(120).collect())),
        }
    }
}

impl TryFrom<String> for EpcisHash {
    type Error = BadEpcisHash;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<EpcisHash> for String {
    fn from(h: EpcisHash) -> Self {
        h.0
    }
}

impl std::fmt::Display for EpcisHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
