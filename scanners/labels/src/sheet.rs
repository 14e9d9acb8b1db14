//! A PDF sheet of labels from CSV: one label per row, columns `gtin,serial,lot,expiry`
//! under a header row. Every row is checked (including that no GTIN and serial pair
//! repeats) and encoded before anything is drawn, so a bad row yields an error naming
//! its line and no sheet at all.

use crate::layout::Label;
use crate::symbol::Symbology;
use crate::{LabelData, LabelError, pdf};
use std::collections::HashMap;

const COLUMNS: [&str; 4] = ["gtin", "serial", "lot", "expiry"];

/// Reads `csv` and returns the PDF sheet. See [`crate::sheet_from_csv`].
pub(crate) fn from_csv(
    csv: &str,
    symbology: Symbology,
    base_uri: Option<&str>,
) -> Result<Vec<u8>, LabelError> {
    let rows = read(csv)?;
    if symbology == Symbology::Qr {
        // A bad base URI is no row's fault: report it once, as itself.
        if let Some((_, first)) = rows.first() {
            first.digital_link(base_uri)?;
        }
    }
    let labels = rows
        .iter()
        .map(|(line, data)| {
            Label::new(data, symbology, base_uri).map_err(|problem| LabelError::CsvRow {
                line: *line,
                problem: Box::new(problem),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pdf::sheet(&labels))
}

/// Parses and validates every row, with the file line each came from.
fn read(csv: &str) -> Result<Vec<(u64, LabelData)>, LabelError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv.as_bytes());
    let header = reader.headers().map_err(|e| syntax(&e, 1))?.clone();
    let order = column_order(&header)?;

    let mut rows = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| syntax(&e, 0))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |column: usize| record.get(order[column]).unwrap_or("");
        let data = LabelData::new(field(0), field(1), field(2), field(3)).map_err(|problem| {
            LabelError::CsvRow {
                line,
                problem: Box::new(problem),
            }
        })?;
        let key = (data.gtin().to_string(), data.serial().to_string());
        if let Some(&first_line) = seen.get(&key) {
            return Err(LabelError::CsvRow {
                line,
                problem: Box::new(LabelError::DuplicateSerial {
                    gtin: key.0,
                    serial: key.1,
                    first_line,
                }),
            });
        }
        seen.insert(key, line);
        rows.push((line, data));
    }
    if rows.is_empty() {
        return Err(LabelError::EmptySheet);
    }
    Ok(rows)
}

/// For each of [`COLUMNS`], the index of that column in the file. The four columns
/// may come in any order, any case; a missing, repeated or unknown column is refused.
fn column_order(header: &csv::StringRecord) -> Result<[usize; 4], LabelError> {
    let refuse = || LabelError::CsvHeader {
        found: header.iter().collect::<Vec<_>>().join(","),
    };
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    if names.len() != COLUMNS.len() {
        return Err(refuse());
    }
    let mut order = [0; 4];
    for (slot, wanted) in order.iter_mut().zip(COLUMNS) {
        *slot = names.iter().position(|n| n == wanted).ok_or_else(refuse)?;
    }
    Ok(order)
}

/// A CSV reader error as a row error; `fallback_line` when the reader knows no line.
fn syntax(error: &csv::Error, fallback_line: u64) -> LabelError {
    let line = error.position().map_or(fallback_line, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("it has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8 text".to_string(),
        _ => error.to_string(),
    };
    LabelError::CsvSyntax { line, message }
}
