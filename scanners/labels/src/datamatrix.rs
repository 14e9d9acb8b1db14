//! GS1 DataMatrix (ECC 200) encoding: our own ASCII-mode data codewords, rxing's symbol
//! size table, Reed-Solomon error correction and module placement.
//!
//! Why not rxing's `DataMatrixWriter` with its GS1 option: that goes through rxing's
//! "minimal" encoder, which for some inputs switches to EDIFACT and ends the symbol
//! without the EDIFACT unlatch, so every reader (rxing's own and libdmtx alike) sees
//! garbage after the serial. Found by the round-trip property test. ASCII mode alone
//! is what many GS1 printers emit: digit pairs take one codeword, so GS1 element
//! strings, which are mostly digits, stay compact.

use crate::LabelError;
use rxing::datamatrix::encoder::{
    DefaultPlacement, SymbolInfo, SymbolInfoLookup, SymbolShapeHint, error_correction,
};

/// FNC1 codeword: first in the symbol it marks GS1 data; later it ends a field.
const FNC1: u8 = 232;
/// First pad codeword; later pads are scrambled (ISO/IEC 16022, 5.2.3).
const PAD: u8 = 129;
/// Upper Shift: the next codeword is an extended ASCII character (128 to 255).
const UPPER_SHIFT: u8 = 235;

/// Encodes a GS1 element string (GS, 0x1D, after variable-length fields) as a square
/// ECC 200 symbol with FNC1 in first position. Returns the symbol's width and modules
/// row by row (`true` is dark).
pub(crate) fn encode(element_string: &str) -> Result<(u32, Vec<bool>), LabelError> {
    let mut codewords = ascii_codewords(element_string)?;
    let lookup = SymbolInfoLookup::new();
    let symbol = lookup
        .lookup_with_codewords_shape_size_fail(
            codewords.len() as u32,
            SymbolShapeHint::FORCE_SQUARE,
            &None,
            &None,
            true,
        )
        .ok()
        .flatten()
        .ok_or_else(|| LabelError::Encode {
            message: format!(
                "DataMatrix: {} codewords do not fit the largest symbol",
                codewords.len()
            ),
        })?;
    pad(&mut codewords, symbol.getDataCapacity() as usize);
    draw(&codewords, symbol).map_err(|e| LabelError::Encode {
        message: format!("DataMatrix: {e}"),
    })
}

/// ASCII encodation (ISO/IEC 16022, 5.2.3): leading FNC1, digit pairs as 130 + value,
/// GS as FNC1, other ASCII as value + 1, extended ASCII behind Upper Shift.
fn ascii_codewords(data: &str) -> Result<Vec<u8>, LabelError> {
    let mut out = vec![FNC1];
    let bytes: Vec<u32> = data.chars().map(u32::from).collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next_is_digit = bytes.get(i + 1).is_some_and(|n| (48..=57).contains(n));
        if (48..=57).contains(&c) && next_is_digit {
            out.push((130 + (c - 48) * 10 + (bytes[i + 1] - 48)) as u8);
            i += 2;
            continue;
        }
        match c {
            0x1d => out.push(FNC1),
            0..=127 => out.push(c as u8 + 1),
            128..=255 => out.extend([UPPER_SHIFT, (c - 127) as u8]),
            _ => {
                return Err(LabelError::Encode {
                    message: format!("DataMatrix: character U+{c:04X} cannot be encoded"),
                });
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Fills the data capacity: one plain pad, then pads scrambled by their position.
fn pad(codewords: &mut Vec<u8>, capacity: usize) {
    if codewords.len() < capacity {
        codewords.push(PAD);
    }
    while codewords.len() < capacity {
        let position = codewords.len() + 1;
        let pseudo_random = (149 * position) % 253 + 1;
        let value = usize::from(PAD) + pseudo_random;
        codewords.push(if value <= 254 { value } else { value - 254 } as u8);
    }
}

/// Adds error correction, places the codewords and draws the finder pattern of every
/// data region: solid left and bottom edges, alternating top and right edges.
fn draw(codewords: &[u8], symbol: &SymbolInfo) -> rxing::common::Result<(u32, Vec<bool>)> {
    let data: String = codewords.iter().map(|&c| char::from(c)).collect();
    let with_ecc = error_correction::encodeECC200(&data, symbol)?;
    let data_width = symbol.getSymbolDataWidth()?;
    let data_height = symbol.getSymbolDataHeight()?;
    let mut placement = DefaultPlacement::new(with_ecc, data_width as usize, data_height as usize);
    placement.place()?;

    let width = symbol.getSymbolWidth()?;
    // Each data region has a one-module border on every side.
    let regions = (width - data_width) / 2;
    let region = data_width / regions;
    let mut dark = Vec::with_capacity((width * width) as usize);
    for y in 0..width {
        let (ry, ly) = (y / (region + 2), y % (region + 2));
        for x in 0..width {
            let (rx, lx) = (x / (region + 2), x % (region + 2));
            let module = if lx == 0 || ly == region + 1 {
                true
            } else if ly == 0 {
                lx % 2 == 0
            } else if lx == region + 1 {
                ly % 2 == 1
            } else {
                placement.getBit(
                    (rx * region + lx - 1) as usize,
                    (ry * region + ly - 1) as usize,
                )
            };
            dark.push(module);
        }
    }
    Ok((width, dark))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_pair_up_and_gs_is_fnc1() {
        assert_eq!(
            ascii_codewords("0112\u{1d}A1").unwrap(),
            vec![FNC1, 130 + 1, 130 + 12, FNC1, b'A' + 1, b'1' + 1]
        );
    }

    #[test]
    fn pads_follow_the_253_state_rule() {
        // Known from ISO/IEC 16022 annex: after data "123456" (3 codewords) in a 10x10
        // symbol of 3 data codewords, no pad; in 12x12 (5), pads 129 then 25 (pos 5).
        let mut codewords = vec![142, 164, 186];
        pad(&mut codewords, 5);
        assert_eq!(
            codewords,
            vec![142, 164, 186, 129, (129 + (149 * 5) % 253 + 1 - 254) as u8]
        );
    }

    #[test]
    fn large_symbols_get_several_data_regions() {
        let long = "0".repeat(120);
        let (width, dark) = encode(&long).unwrap();
        assert!(width >= 32);
        // Solid left edge of the second region column.
        let region_w = width / 2;
        assert!((0..width).all(|y| dark[(y * width + region_w) as usize]));
    }
}
