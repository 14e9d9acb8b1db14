//! PDF sheets from CSV: every row becomes a label, in order, on as many A4 pages as
//! needed; the CSV may come with its columns in any order and with blank lines.

use labels::{Format, LabelData, Symbology, render, sheet_from_csv};

fn csv(rows: usize) -> String {
    let mut csv = String::from("gtin,serial,lot,expiry\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "09506000134352,SN{i:06},LOT{},2027-06-{:02}\n",
            i % 7,
            1 + i % 28
        ));
    }
    csv
}

/// The page count the PDF's page tree declares.
fn pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/Count ").expect("a page tree");
    text[at + 7..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_sheet_is_a_complete_pdf() {
    let pdf = sheet_from_csv(&csv(5), Symbology::DataMatrix, None).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    assert!(String::from_utf8_lossy(&pdf).contains("/BaseFont /Helvetica"));
    assert_eq!(pages(&pdf), 1);
}

#[test]
fn many_rows_fill_several_pages() {
    let one = pages(&sheet_from_csv(&csv(1), Symbology::Qr, None).unwrap());
    let many = pages(&sheet_from_csv(&csv(200), Symbology::Qr, None).unwrap());
    assert_eq!(one, 1);
    assert!(many >= 4, "200 QR labels on {many} pages");
}

#[test]
fn columns_in_any_order_and_blank_lines() {
    let csv = "Serial,EXPIRY,lot,gtin\r\n\r\nSN1,2027-01-31,L1,09506000134352\r\n";
    assert!(sheet_from_csv(csv, Symbology::DataMatrix, None).is_ok());
}

#[test]
fn single_label_pdf_page_is_the_label() {
    let data = LabelData::new("09506000134352", "SN1", "L1", "2027-01-31").unwrap();
    let pdf = render(&data, Symbology::Qr, Format::Pdf, None).unwrap();
    assert_eq!(pages(&pdf), 1);
    let text = String::from_utf8_lossy(&pdf);
    let media_box = text.find("/MediaBox [0 0 ").expect("a media box");
    let width_pt: f64 = text[media_box + 15..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Code, quiet zone and text: a few centimetres, not a page.
    assert!((100.0..250.0).contains(&width_pt), "{width_pt} pt wide");
}

#[test]
fn svg_is_sized_in_millimetres() {
    let data = LabelData::new("09506000134352", "SN1", "L1", "2027-01-31").unwrap();
    let svg = String::from_utf8(render(&data, Symbology::DataMatrix, Format::Svg, None).unwrap())
        .unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""));
    assert!(svg.contains("mm\" height=\""));
    for line in ["GTIN 09506000134352", "SN SN1", "LOT L1", "EXP 2027-01-31"] {
        assert!(svg.contains(&format!(">{line}</text>")), "{line}");
    }
}
