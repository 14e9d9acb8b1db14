//! The AI table generator and its drift check.
//!
//! `src/ai_table.rs` is generated from the GS1 Barcode Syntax Dictionary in
//! `../shared/conformance/gs1-syntax-engine/`. This test regenerates it in
//! memory and fails if the committed file differs. To rewrite it after a
//! dictionary update: `UPDATE_AI_TABLE=1 cargo test -p scanners --test ai_table`.
//! The dictionary itself is never copied into this repository.

mod common;

use scanners::dictionary::{self, EntrySpec};
use std::fmt::Write;

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ai_table.rs");

fn quoted_list(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", inner.join(", "))
}

fn render_entry(e: &EntrySpec) -> String {
    let comps: Vec<String> = e
        .components
        .iter()
        .map(|c| {
            let linters: Vec<String> = c
                .linters
                .iter()
                .map(|l| {
                    format!(
                        "Linter::{:?}",
                        scanners::lint::Linter::from_name(l).expect("known linter")
                    )
                })
                .collect();
            format!(
                "Component {{ cset: Cset::{}, min: {}, max: {}, optional: {}, linters: &[{}] }}",
                c.cset,
                c.min,
                c.max,
                c.optional,
                linters.join(", ")
            )
        })
        .collect();
    let req: Vec<String> = e
        .attr_values("req")
        .map(|r| {
            let alts: Vec<String> = r
                .split(',')
                .map(|alt| quoted_list(&alt.split('+').collect::<Vec<_>>()))
                .collect();
            format!("&[{}]", alts.join(", "))
        })
        .collect();
    let ex: Vec<&str> = e.attr_values("ex").flat_map(|x| x.split(',')).collect();
    let dlpkey = match e.attr_values("dlpkey").next() {
        None => "None".to_string(),
        Some("") => "Some(&[])".to_string(),
        Some(v) => {
            let alts: Vec<String> = v
                .split('|')
                .map(|alt| quoted_list(&alt.split(',').collect::<Vec<_>>()))
                .collect();
            format!("Some(&[{}])", alts.join(", "))
        }
    };
    format!(
        "    AiEntry {{ ai: {:?}, fixed: {}, dl_attr: {}, title: {:?}, components: &[{}], req: &[{}], ex: {}, dlpkey: {} }},\n",
        e.ai,
        e.fixed,
        e.dl_attr,
        e.title,
        comps.join(", "),
        req.join(", "),
        quoted_list(&ex),
        dlpkey
    )
}

fn render(dictionary_text: &str) -> String {
    let entries = dictionary::parse(dictionary_text).expect("the dictionary parses");
    let release = dictionary_text
        .lines()
        .find_map(|l| l.strip_prefix("# Release:"))
        .map(str::trim)
        .unwrap_or("unknown");
    let mut out = String::new();
    writeln!(
        out,
        "//! The GS1 Application Identifier table, generated from the GS1 Barcode"
    )
    .unwrap();
    writeln!(
        out,
        "//! Syntax Dictionary (release {release}) by `tests/ai_table.rs`. Do not edit:"
    )
    .unwrap();
    writeln!(
        out,
        "//! run `UPDATE_AI_TABLE=1 cargo test -p scanners --test ai_table` instead."
    )
    .unwrap();
    writeln!(out, "//! {} entries.", entries.len()).unwrap();
    out.push('\n');
    out.push_str("use crate::ai::{AiEntry, Component, Cset};\nuse crate::lint::Linter;\n\n");
    out.push_str("#[rustfmt::skip]\npub(crate) static AI_TABLE: &[AiEntry] = &[\n");
    for e in &entries {
        out.push_str(&render_entry(e));
    }
    out.push_str("];\n");
    out
}

/// Third-party data stays in `../shared/conformance/`: no copy of the
/// dictionary may live in this crate.
#[test]
fn the_dictionary_is_not_copied_into_the_crate() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && text.contains("# GS1 Barcode Syntax Dictionary\n")
            {
                found.push(path.display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), &mut found);
    assert!(
        found.is_empty(),
        "copies of the Syntax Dictionary: {found:?}"
    );
}

#[test]
fn committed_ai_table_matches_the_dictionary() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let path = dir.join("gs1-syntax-engine/gs1-syntax-dictionary.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("NOTICE: {} missing; skipping", path.display());
        return;
    };
    let generated = render(&text);
    if std::env::var_os("UPDATE_AI_TABLE").is_some() {
        std::fs::write(TABLE, &generated).expect("write src/ai_table.rs");
        println!("rewrote {TABLE}");
        return;
    }
    let committed = std::fs::read_to_string(TABLE).expect("read src/ai_table.rs");
    assert!(
        committed == generated,
        "src/ai_table.rs drifted from the Syntax Dictionary: run \
         UPDATE_AI_TABLE=1 cargo test -p scanners --test ai_table"
    );
    println!("ai_table: {} bytes match the dictionary", generated.len());
}
