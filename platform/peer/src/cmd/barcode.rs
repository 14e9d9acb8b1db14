//! `pedigree barcode parse [DATA|-]`: what a scan says, as one JSON object. Exit 0 when
//! the data is valid, 1 when it is not, 2 on a usage error. Reading from standard input
//! keeps GS (0x1D) bytes; one trailing newline is dropped. `pedigree barcode decode IMAGE`
//! prints the same object for every code found in a picture.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::Read;
use std::process::ExitCode;

/// `pedigree barcode ...`
#[derive(Debug, Subcommand)]
pub enum BarcodeCommand {
    /// Parse scanner output: element string, bracketed text or Digital Link URI.
    Parse {
        /// The scanned data, or `-` (the default) to read standard input.
        #[arg(default_value = "-")]
        data: String,
    },
    /// Find and parse every code in a PNG or JPEG image; prints a JSON array.
    Decode {
        /// The image file.
        image: std::path::PathBuf,
    },
}

/// Runs `pedigree barcode`.
pub fn run(cmd: BarcodeCommand) -> Result<ExitCode> {
    match cmd {
        BarcodeCommand::Parse { data } => {
            let bytes = if data == "-" {
                let mut buf = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut buf)
                    .context("reading standard input")?;
                if buf.ends_with(b"\r\n") {
                    buf.truncate(buf.len() - 2);
                } else if buf.ends_with(b"\n") {
                    buf.pop();
                }
                buf
            } else {
                data.into_bytes()
            };
            let report = scanners::report(&bytes);
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::from(scanners::exit_code(&report) as u8))
        }
        BarcodeCommand::Decode { image } => {
            let bytes = std::fs::read(&image)
                .with_context(|| format!("cannot read {}", image.display()))?;
            let reports = labels::decode_report(&bytes);
            println!("{}", serde_json::to_string_pretty(&reports)?);
            let all_valid = reports
                .as_array()
                .is_some_and(|a| a.iter().all(|r| scanners::exit_code(r) == 0));
            Ok(ExitCode::from(if all_valid { 0 } else { 1 }))
        }
    }
}
