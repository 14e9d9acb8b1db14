//! Print the report for each argument: `cargo run -p scanners --example scan -- DATA...`
//! (`\x1d` in an argument stands for GS).

fn main() {
    for arg in std::env::args().skip(1) {
        let data = arg.replace("\\x1d", "\u{1d}");
        let report = scanners::report(data.as_bytes());
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    }
}
