//! Labels read by the tools a real user's scanner stack uses: `zbarimg` (zbar-tools)
//! for QR and `dmtxread` (dmtx-utils) for DataMatrix, run on the PNG we write and on
//! the PDF as a printer would put it on paper (rasterised by `pdftoppm`, poppler-utils).
//!
//! `scripts/install-test-deps.sh` installs all three. A missing tool skips its test with
//! a notice, unless `REQUIRE_SCANNER_TOOLS=1`, which makes it a failure (CI sets it).

use labels::{Format, LabelData, Symbology, render, sheet_from_csv};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `tool` can run here; prints the skip notice or panics per the environment.
fn tool_available(tool: &str, package: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        if std::env::var("REQUIRE_SCANNER_TOOLS").as_deref() == Ok("1") {
            panic!(
                "{tool} is missing and REQUIRE_SCANNER_TOOLS=1: run scripts/install-test-deps.sh"
            );
        }
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {tool} not installed (Debian package {package}); run scripts/install-test-deps.sh"
        );
    }
    found
}

fn write_png(dir: &Path, name: &str, data: &LabelData, symbology: Symbology) -> PathBuf {
    let png = render(data, symbology, Format::Png, None).expect("label renders");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("PNG written");
    path
}

fn samples() -> Vec<LabelData> {
    [
        ("09506000134352", "ABC123", "L1", "2027-12-31"),
        (
            "9506000134352",
            "12345678901234567890",
            "BATCH-2026/07",
            "2026-02-28",
        ),
        ("04012345000009", "x%&'()*+,-./:;<=>?_!", "A", "2030-06-15"),
    ]
    .iter()
    .map(|(g, s, l, e)| LabelData::new(g, s, l, e).expect("valid sample"))
    .collect()
}

#[test]
fn zbarimg_reads_the_qr_label() {
    if !tool_available("zbarimg", "zbar-tools") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, data) in samples().iter().enumerate() {
        let path = write_png(dir.path(), &format!("qr{i}.png"), data, Symbology::Qr);
        let out = Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sqrcode.enable"])
            .arg(&path)
            .output()
            .expect("zbarimg runs");
        assert!(
            out.status.success(),
            "zbarimg found no code in {}",
            path.display()
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim_end(), data.digital_link(None).unwrap());
    }
}

#[test]
fn dmtxread_reads_the_datamatrix_label() {
    if !tool_available("dmtxread", "dmtx-utils") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, data) in samples().iter().enumerate() {
        let path = write_png(
            dir.path(),
            &format!("dm{i}.png"),
            data,
            Symbology::DataMatrix,
        );
        // -G29: GS1 mode, FNC1 printed as GS (29); stop after one code, 10 s at most.
        let out = Command::new("dmtxread")
            .args(["-G29", "-N1", "-m10000"])
            .arg(&path)
            .output()
            .expect("dmtxread runs");
        assert!(
            out.status.success(),
            "dmtxread found no code in {}",
            path.display()
        );
        // The leading GS is the FNC1 in first position that marks a GS1 DataMatrix.
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text, format!("{}{}", labels::GS, data.element_string()));
    }
}

/// What `zbarimg` reads in the image at `path`, one code per entry, sorted.
fn zbarimg(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect("zbarimg runs");
    let mut codes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    codes.sort();
    codes
}

/// What `dmtxread` reads in the image at `path` (at most `count` codes), FNC1 as GS,
/// one code per entry, sorted.
fn dmtxread(path: &Path, count: usize) -> Vec<String> {
    let out = Command::new("dmtxread")
        .args(["-G29", "-n", &format!("-N{count}"), "-m20000"])
        .arg(path)
        .output()
        .expect("dmtxread runs");
    let mut codes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    codes.sort();
    codes
}

/// Rasterises the first page of `pdf` at `dpi` in grayscale, as a printer would, keeping
/// only the top `height_mm` of the page; returns the PNG's path.
fn print_first_page(
    dir: &Path,
    name: &str,
    pdf: &[u8],
    dpi: u32,
    height_mm: Option<f64>,
) -> PathBuf {
    let pdf_path = dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf_path, pdf).unwrap();
    let mut command = Command::new("pdftoppm");
    command.args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"]);
    if let Some(mm) = height_mm {
        let px = (mm / 25.4 * f64::from(dpi)).round() as u32;
        command.args(["-x", "0", "-y", "0", "-W", "100000", "-H", &px.to_string()]);
    }
    let status = command
        .arg(&pdf_path)
        .arg(dir.join(name))
        .status()
        .expect("pdftoppm runs");
    assert!(
        status.success(),
        "pdftoppm failed on {}",
        pdf_path.display()
    );
    dir.join(format!("{name}.png"))
}

#[test]
fn printed_single_label_pdfs_read_back() {
    if !tool_available("pdftoppm", "poppler-utils")
        || !tool_available("zbarimg", "zbar-tools")
        || !tool_available("dmtxread", "dmtx-utils")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = &samples()[1];
    let qr = render(data, Symbology::Qr, Format::Pdf, None).unwrap();
    let page = print_first_page(dir.path(), "qr", &qr, 300, None);
    assert_eq!(zbarimg(&page), vec![data.digital_link(None).unwrap()]);

    let dm = render(data, Symbology::DataMatrix, Format::Pdf, None).unwrap();
    let page = print_first_page(dir.path(), "dm", &dm, 300, None);
    assert_eq!(
        dmtxread(&page, 1),
        vec![format!("{}{}", labels::GS, data.element_string())]
    );
}

#[test]
fn printed_sheets_read_back() {
    if !tool_available("pdftoppm", "poppler-utils")
        || !tool_available("zbarimg", "zbar-tools")
        || !tool_available("dmtxread", "dmtx-utils")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("gtin,serial,lot,expiry\n");
    let mut rows = Vec::new();
    for (i, gtin) in ["09506000134352", "04012345000009", "00012345600012"]
        .iter()
        .enumerate()
    {
        let (serial, lot, expiry) = (
            format!("SN{i:04}"),
            format!("LOT-{i}"),
            format!("2028-0{}-2{i}", i + 1),
        );
        csv.push_str(&format!("{gtin},{serial},{lot},{expiry}\n"));
        rows.push(LabelData::new(gtin, &serial, &lot, &expiry).unwrap());
    }
    let base = "https://pedigree.example.com/dl";

    // The three labels fill the top row of the page; reading just that strip keeps
    // the readers fast.
    let sheet = sheet_from_csv(&csv, Symbology::Qr, Some(base)).unwrap();
    let strip = print_first_page(dir.path(), "qr-sheet", &sheet, 200, Some(45.0));
    let mut expected: Vec<String> = rows
        .iter()
        .map(|d| d.digital_link(Some(base)).unwrap())
        .collect();
    expected.sort();
    assert_eq!(zbarimg(&strip), expected);

    let sheet = sheet_from_csv(&csv, Symbology::DataMatrix, None).unwrap();
    let strip = print_first_page(dir.path(), "dm-sheet", &sheet, 200, Some(35.0));
    let mut expected: Vec<String> = rows
        .iter()
        .map(|d| format!("{}{}", labels::GS, d.element_string()))
        .collect();
    expected.sort();
    assert_eq!(dmtxread(&strip, 3), expected);
}
