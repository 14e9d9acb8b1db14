//! `pedigree label`: print a label for one pack (SVG, PNG or PDF), or a PDF sheet of many
//! from a CSV. Everything is checked before anything is written: bad input gives an error
//! with a stable code and no file.

use anyhow::{Context, Result, bail};
use clap::Args;
use labels::{Format, LabelData, Symbology};
use std::path::{Path, PathBuf};

/// Arguments of `pedigree label`.
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// GTIN (8, 12, 13 or 14 digits, with a correct check digit).
    #[arg(long, required_unless_present = "sheet")]
    pub gtin: Option<String>,
    /// Serial number (AI 21).
    #[arg(long, required_unless_present = "sheet")]
    pub serial: Option<String>,
    /// Lot or batch (AI 10).
    #[arg(long, required_unless_present = "sheet")]
    pub lot: Option<String>,
    /// Expiry date, YYYY-MM-DD.
    #[arg(long, required_unless_present = "sheet")]
    pub expiry: Option<String>,
    /// A CSV with the header `gtin,serial,lot,expiry`: makes a printable PDF sheet.
    #[arg(long, conflicts_with_all = ["gtin", "serial", "lot", "expiry", "format"])]
    pub sheet: Option<PathBuf>,
    /// datamatrix (the regulated pack code) or qr (a Digital Link URI).
    #[arg(long, default_value = "datamatrix")]
    pub symbology: String,
    /// svg, png or pdf (default: from the output file's extension).
    #[arg(long)]
    pub format: Option<String>,
    /// Base of the Digital Link URI carried by QR codes.
    #[arg(long)]
    pub base_uri: Option<String>,
    /// The file to write.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

fn format_for(args: &LabelArgs) -> Result<Format> {
    let text = match &args.format {
        Some(f) => f.clone(),
        None => args
            .out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_string)
            .context("say --format svg|png|pdf, or give the output file one of those extensions")?,
    };
    text.parse::<Format>().map_err(|e| anyhow::anyhow!(e))
}

fn label_error(e: labels::LabelError) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", e.code())
}

/// Runs `pedigree label`.
pub fn run(args: LabelArgs) -> Result<()> {
    let symbology: Symbology = args
        .symbology
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    let bytes = match &args.sheet {
        Some(csv) => {
            if args.out.extension().and_then(|e| e.to_str()) != Some("pdf") {
                bail!("a label sheet is a PDF: name the output file *.pdf");
            }
            let text = std::fs::read_to_string(csv)
                .with_context(|| format!("cannot read {}", csv.display()))?;
            labels::sheet_from_csv(&text, symbology, args.base_uri.as_deref())
                .map_err(label_error)?
        }
        None => {
            let format = format_for(&args)?;
            let field = |v: &Option<String>| v.clone().expect("required by clap");
            let data = LabelData::new(
                &field(&args.gtin),
                &field(&args.serial),
                &field(&args.lot),
                &field(&args.expiry),
            )
            .map_err(label_error)?;
            labels::render(&data, symbology, format, args.base_uri.as_deref())
                .map_err(label_error)?
        }
    };
    write_atomically(&args.out, &bytes)?;
    println!(
        "{}",
        serde_json::json!({"file": args.out, "bytes": bytes.len()})
    );
    Ok(())
}

/// Writes next to the target and renames, so a crash never leaves half a label.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
