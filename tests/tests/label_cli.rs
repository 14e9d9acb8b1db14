//! `pedigree label` and `pedigree barcode decode` as a user runs them: a label printed and
//! read back, a sheet from a CSV, and bad input refused with a stable code and no file.

use e2e::pedigree;
use serde_json::Value;

#[test]
fn label_prints_and_reads_back_and_bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for (symbology, file) in [("datamatrix", "dm.png"), ("qr", "qr.png")] {
        let out = pedigree(&[
            "label",
            "--gtin",
            "09506000134352",
            "--serial",
            "SN-0001",
            "--lot",
            "L2611",
            "--expiry",
            "2028-03-31",
            "--symbology",
            symbology,
            "-o",
            &path(file),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = pedigree(&["barcode", "decode", &path(file)]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let found: Value = serde_json::from_slice(&out.stdout).unwrap();
        let code = &found[0];
        assert_eq!(code["gtin"], "09506000134352", "{symbology}: {code}");
        assert_eq!(code["serial"], "SN-0001");
        assert_eq!(code["lot"], "L2611");
        assert_eq!(code["expiry"], "2028-03-31");
    }
    let out = pedigree(&[
        "label",
        "--gtin",
        "09506000134352",
        "--serial",
        "A",
        "--lot",
        "B",
        "--expiry",
        "2028-01-01",
        "-o",
        &path("l.svg"),
    ]);
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(path("l.svg"))
            .unwrap()
            .contains("<svg")
    );

    // wrong check digit, impossible date, over-long serial: error code, exit 2, no file
    for (gtin, serial, expiry, code) in [
        ("09506000134353", "SN1", "2028-03-31", "INVALID_GTIN"),
        ("09506000134352", "SN1", "2028-02-30", "INVALID_EXPIRY"),
        (
            "09506000134352",
            "S123456789012345678901",
            "2028-03-31",
            "INVALID_SERIAL",
        ),
    ] {
        let out = pedigree(&[
            "label",
            "--gtin",
            gtin,
            "--serial",
            serial,
            "--lot",
            "L1",
            "--expiry",
            expiry,
            "-o",
            &path("bad.png"),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.to_uppercase().contains(code),
            "expected {code} in: {err}"
        );
        assert!(!dir.path().join("bad.png").exists());
    }

    std::fs::write(path("sheet.csv"), "gtin,serial,lot,expiry\n09506000134352,S1,L1,2028-01-31\n09506000134352,S2,L1,2028-01-31\n").unwrap();
    let out = pedigree(&[
        "label",
        "--sheet",
        &path("sheet.csv"),
        "-o",
        &path("sheet.pdf"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(path("sheet.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    std::fs::write(
        path("bad.csv"),
        "gtin,serial,lot,expiry\n09506000134352,S1,L1,2028-01-31\n123,S2,L1,2028-01-31\n",
    )
    .unwrap();
    let out = pedigree(&["label", "--sheet", &path("bad.csv"), "-o", &path("bad.pdf")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("bad.pdf").exists());
}
