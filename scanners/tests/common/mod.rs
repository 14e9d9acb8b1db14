//! Helpers shared by the integration tests: where the third-party
//! conformance data lives, and reading its JSONL files.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/conformance` next to the repository (the workspace root's parent).
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "NOTICE: conformance data not found at {}; skipping",
            dir.display()
        );
        None
    }
}

/// The lines of a JSONL file under the conformance folder, parsed.
pub fn jsonl(rel: &str) -> Option<Vec<serde_json::Value>> {
    let path = conformance_dir()?.join(rel);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("NOTICE: {} missing; skipping", path.display());
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("conformance line is JSON"))
            .collect(),
    )
}

/// A string field of a vector line, decoding `bytes_latin1` lines to raw bytes.
pub fn bytes_of(v: &serde_json::Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().unwrap_or_default();
    if v["bytes_latin1"].as_bool() == Some(true) {
        s.chars().map(|c| c as u32 as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

/// Tally of a vector run, printed at the end.
#[derive(Default)]
pub struct Tally {
    pub passed: usize,
    pub skipped: usize,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.passed += 1;
        } else {
            self.failures.push(what());
        }
    }

    /// Print the counts and fail on any failure.
    pub fn finish(self, name: &str) {
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            self.passed,
            self.failures.len(),
            self.skipped
        );
        for f in self.failures.iter().take(40) {
            println!("  FAIL {f}");
        }
        assert!(
            self.failures.is_empty(),
            "{name}: {} vectors failed",
            self.failures.len()
        );
    }
}
