//! The GS1 Digital Link resolver: `GET /01/{gtin}/21/{serial}` and the other qualifier
//! paths (`/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`, `/00/{sscc}`). It answers an
//! anonymous viewer (a phone that scanned the QR on a pack) with the product, a verdict
//! and the recall status, never with custody details: JSON for `Accept:
//! application/json`, else a small page. Everything shown is HTML-escaped.

use crate::http::Http;
use actix_web::{HttpRequest, HttpResponse, web};
use ledger::OrgId;
use serde_json::{Value, json};
use trace::{ScannedCode, Verdict};

/// Registers the resolver's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/01/{rest:.*}", web::get().to(resolve))
        .route("/00/{rest:.*}", web::get().to(resolve));
}

/// What an outsider is told for each verdict: no holder, no custody detail.
fn public_answer(v: Verdict) -> (&'static str, &'static str, &'static str) {
    match v {
        Verdict::Verified | Verdict::NotInYourCustody => (
            "GENUINE",
            "This pack was registered by its manufacturer and is in the regulated supply chain.",
            "Nothing to do. Ask your pharmacist if you have a question about it.",
        ),
        Verdict::AlreadyDispensed => (
            "ALREADY_DISPENSED",
            "This pack was already dispensed to a patient.",
            "If you just received it from a pharmacy, that is expected.",
        ),
        Verdict::Recalled => (
            "RECALLED",
            "This product is under recall.",
            "Do not use it; take it back to your pharmacy.",
        ),
        Verdict::Expired => (
            "EXPIRED",
            "This pack is past its expiry date.",
            "Do not use it; take it back to your pharmacy.",
        ),
        Verdict::Decommissioned => (
            "DECOMMISSIONED",
            "This pack was taken out of the supply chain.",
            "Do not use it; take it back to your pharmacy.",
        ),
        Verdict::Quarantined => (
            "QUARANTINED",
            "This pack is on hold in the supply chain.",
            "Do not use it; ask your pharmacy.",
        ),
        Verdict::UnknownProduct | Verdict::UnknownSerial | Verdict::Mismatch => (
            v.as_str(),
            "This code does not match a pack registered by a manufacturer.",
            "Do not use it; show it to a pharmacist, it may be falsified.",
        ),
        Verdict::Rescan => (
            "RESCAN",
            "The link is not a valid GS1 Digital Link.",
            "Scan the code on the pack again.",
        ),
    }
}

fn product(gtin: Option<&str>) -> Value {
    let Some(gtin) = gtin else {
        return Value::Null;
    };
    match fixtures::products::product(gtin) {
        Some(p) => json!({
            "gtin": gtin, "name": p.name, "strength": p.strength, "form": p.form,
            "packSize": p.pack_size, "device": p.device, "brandOwner": p.owner,
        }),
        None => json!({"gtin": gtin}),
    }
}

async fn resolve(state: web::Data<Http>, req: HttpRequest) -> HttpResponse {
    let uri = match req.query_string() {
        "" => format!("https://id.gs1.org{}", req.path()),
        q => format!("https://id.gs1.org{}?{q}", req.path()),
    };
    let node = state.node.clone();
    let answer = web::block(move || answer(&node.ledger, &uri)).await;
    let Ok(Ok(body)) = answer else {
        return crate::http::error(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the peer could not answer; try again",
        );
    };
    let wants_json = req
        .headers()
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let status = if body["verification"]["verdict"] == "RESCAN" {
        actix_web::http::StatusCode::BAD_REQUEST
    } else {
        actix_web::http::StatusCode::OK
    };
    if wants_json {
        HttpResponse::build(status).json(body)
    } else {
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("vary", "accept"))
            .body(page(&body))
    }
}

fn answer(ledger: &ledger::Ledger, uri: &str) -> Result<Value, ledger::StoreError> {
    let outsider = OrgId::new("public").expect("a valid organisation id");
    let v = match ScannedCode::read(uri) {
        Err(p) => trace::rescan(p),
        Ok(scan) => ledger.read(trace::MODULE, |view| {
            trace::verify_in(view, &scan, &outsider, now_ms())
        })?,
    };
    let (verdict, reason, next) = public_answer(v.verdict);
    let recall = match &v.recall {
        Some(r) => Some(trace::recall(ledger, &r.id)?),
        None => None,
    }
    .flatten()
    .map(|r| {
        json!({
            "id": r.id, "class": r.record.class, "depth": r.record.depth,
            "reason": r.record.reason, "issuer": r.record.issuer, "active": r.active,
        })
    });
    Ok(json!({
        "product": product(v.gtin.as_deref()),
        "code": {"gtin": v.gtin, "serial": v.serial, "sscc": v.sscc, "lot": v.lot, "expiry": v.expiry},
        "verification": {"verdict": verdict, "reason": reason, "nextAction": next},
        "recall": recall,
        "diagnostic": v.diagnostic.map(|d| json!({"code": d.code, "message": d.message})),
    }))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

fn page(body: &Value) -> String {
    let p = &body["product"];
    let v = &body["verification"];
    let verdict = v["verdict"].as_str().unwrap_or("");
    let colour = match verdict {
        "GENUINE" | "ALREADY_DISPENSED" => "#1b7f3b",
        _ => "#b00020",
    };
    let name = match p["name"].as_str() {
        Some(_) => format!("{} {}", text(&p["name"]), text(&p["strength"])),
        None => "Unknown product".into(),
    };
    let mut rows = String::new();
    for (label, key) in [
        ("GTIN", "gtin"),
        ("Serial", "serial"),
        ("SSCC", "sscc"),
        ("Lot", "lot"),
        ("Expiry", "expiry"),
    ] {
        if !body["code"][key].is_null() {
            rows.push_str(&format!(
                "<tr><th>{label}</th><td>{}</td></tr>",
                text(&body["code"][key])
            ));
        }
    }
    let recall = match &body["recall"] {
        Value::Null => String::new(),
        r => format!(
            "<p class=\"recall\"><strong>Recall (class {}):</strong> {}</p>",
            text(&r["class"]),
            text(&r["reason"])
        ),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{name} - Pedigree</title><style>body{{font-family:system-ui,sans-serif;max-width:34em;margin:1em auto;padding:0 1em}}\
.verdict{{color:#fff;background:{colour};padding:.6em 1em;border-radius:.4em;font-size:1.5em;font-weight:bold}}\
th{{text-align:left;padding-right:1em}}.recall{{border-left:4px solid #b00020;padding-left:.6em}}</style></head>\
<body><h1>{name}</h1><p>{form}</p><p class=\"verdict\">{verdict}</p><p>{reason}</p><p><strong>{next}</strong></p>\
{recall}<table>{rows}</table></body></html>",
        form = text(&p["form"]),
        verdict = escape(verdict),
        reason = text(&v["reason"]),
        next = text(&v["nextAction"]),
    )
}
