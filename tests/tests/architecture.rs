//! The architecture invariants of ARCHITECTURE.md, checked on the real dependency graph
//! (`cargo metadata`) and the sources.

use e2e::workspace_root;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

struct Graph {
    /// package name -> names of its normal (non-dev) dependencies, transitively resolved
    direct: BTreeMap<String, BTreeSet<String>>,
    members: BTreeMap<String, std::path::PathBuf>,
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(["metadata", "--format-version", "1"])
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let member_ids: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let members = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| member_ids.contains(p["id"].as_str().unwrap()))
        .map(|p| {
            let manifest = std::path::PathBuf::from(p["manifest_path"].as_str().unwrap());
            (
                p["name"].as_str().unwrap().to_string(),
                manifest.parent().unwrap().to_path_buf(),
            )
        })
        .collect();
    let mut direct = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps: BTreeSet<String> = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| name_of[d["pkg"].as_str().unwrap()].clone())
            .collect();
        direct.insert(name_of[node["id"].as_str().unwrap()].clone(), deps);
    }
    Graph { direct, members }
}

impl Graph {
    fn closure(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![package.to_string()];
        while let Some(p) = todo.pop() {
            for d in self.direct.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }

    fn ours(&self) -> BTreeSet<String> {
        self.members.keys().cloned().collect()
    }
}

const WEB: &[&str] = &[
    "actix-web",
    "actix-http",
    "actix-server",
    "hyper",
    "axum",
    "warp",
    "rocket",
    "tower-http",
];
const GRAPHQL: &[&str] = &["async-graphql", "async-graphql-actix-web", "juniper"];

#[test]
fn ledger_knows_no_web_graphql_gs1_or_business_module() {
    let g = graph();
    let deps = g.closure("ledger");
    let ours: BTreeSet<String> = g.ours().into_iter().filter(|p| p != "ledger").collect();
    for bad in WEB.iter().chain(GRAPHQL).map(|s| s.to_string()).chain(ours) {
        assert!(
            !deps.contains(&bad),
            "Architecture invariant broken: ledger depends on {bad}"
        );
    }
}

#[test]
fn scanners_depend_on_nothing_of_ours() {
    let g = graph();
    let deps = g.closure("scanners");
    for ours in g.ours() {
        assert!(
            !deps.contains(&ours),
            "Architecture invariant broken: scanners depends on {ours}"
        );
    }
    let label_deps = g.closure("labels");
    for ours in g.ours().into_iter().filter(|p| p != "scanners") {
        assert!(
            !label_deps.contains(&ours),
            "labels may build on scanners only, not {ours}"
        );
    }
}

#[test]
fn modules_do_not_depend_on_each_other_or_on_the_web() {
    let g = graph();
    // business modules: crates under platform/ other than the peer binary
    let modules: Vec<String> = g
        .members
        .iter()
        .filter(|(name, dir)| {
            dir.parent().is_some_and(|p| p.ends_with("platform")) && *name != "pedigree"
        })
        .map(|(name, _)| name.clone())
        .collect();
    assert!(
        modules.contains(&"anchor".to_string()),
        "found modules: {modules:?}"
    );
    for m in &modules {
        let deps = g.closure(m);
        for other in modules.iter().filter(|o| *o != m) {
            assert!(
                !deps.contains(other),
                "Architecture invariant broken: module {m} depends on module {other}"
            );
        }
        for web in WEB.iter().chain(GRAPHQL) {
            assert!(!deps.contains(*web), "module {m} depends on {web}");
        }
    }
}

#[test]
fn graphql_does_not_depend_on_actix() {
    let g = graph();
    let deps = g.closure("pedigree-graphql");
    for web in WEB {
        assert!(
            !deps.contains(*web),
            "Architecture invariant broken: graphql depends on {web}"
        );
    }
}

#[test]
fn every_crate_opens_with_a_doc_paragraph() {
    let g = graph();
    for (name, dir) in &g.members {
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists());
        let root =
            root.unwrap_or_else(|| panic!("crate {name} has neither src/lib.rs nor src/main.rs"));
        let text = std::fs::read_to_string(&root).unwrap();
        let doc: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
        let words = doc.join(" ").split_whitespace().count();
        assert!(
            words >= 12 && !doc.join(" ").to_lowercase().contains("placeholder"),
            "crate {name} must open with a `//!` paragraph saying what it is and what it must never do ({})",
            root.display()
        );
    }
}
