//! Where things go on one label, in millimetres: the symbol with its quiet zone on the
//! left, the human-readable lines on the right. The SVG, PNG and PDF writers all draw
//! from this one layout so the three formats agree.

use crate::LabelError;
use crate::data::LabelData;
use crate::symbol::{self, Modules, Symbology};

/// Size of one module in millimetres (the X-dimension). GS1 allows 0.255 to 0.615 mm
/// for DataMatrix on healthcare packs; 0.5 mm prints well on office and thermal
/// printers and reads with any camera.
const MODULE_MM: f64 = 0.5;
/// Height of the human-readable text (font size), about 8 pt.
const FONT_MM: f64 = 2.8;
/// Distance between text baselines.
const LINE_MM: f64 = FONT_MM * 1.3;
/// Space between the quiet zone and the text, and right of the text.
const GAP_MM: f64 = 1.5;
/// Margin above and below the text block when the text is taller than the symbol.
const TEXT_MARGIN_MM: f64 = 1.5;

/// One label laid out: the symbol grid, where it sits, and the text lines.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    /// The symbol modules, without quiet zone.
    pub modules: Modules,
    /// Size of one module.
    pub module_mm: f64,
    /// Quiet zone on each side, in modules.
    pub quiet_modules: u32,
    /// Top-left corner of the symbol itself (inside the quiet zone).
    pub code_x_mm: f64,
    /// See `code_x_mm`.
    pub code_y_mm: f64,
    /// Left edge of the text lines.
    pub text_x_mm: f64,
    /// Baseline of the first line.
    pub first_baseline_mm: f64,
    /// Distance between baselines.
    pub line_mm: f64,
    /// Font size.
    pub font_mm: f64,
    /// The human-readable lines.
    pub lines: [String; 4],
    /// Overall label size.
    pub width_mm: f64,
    /// See `width_mm`.
    pub height_mm: f64,
}

impl Label {
    /// Encodes `data` in `symbology` and lays the label out.
    pub(crate) fn new(
        data: &LabelData,
        symbology: Symbology,
        base_uri: Option<&str>,
    ) -> Result<Self, LabelError> {
        let payload = match symbology {
            Symbology::DataMatrix => data.element_string(),
            Symbology::Qr => data.digital_link(base_uri)?,
        };
        let modules = symbol::encode(symbology, &payload)?;
        Ok(Self::arrange(
            modules,
            symbology.quiet_modules(),
            data.human_lines(),
        ))
    }

    fn arrange(modules: Modules, quiet_modules: u32, lines: [String; 4]) -> Self {
        let quiet_mm = f64::from(quiet_modules) * MODULE_MM;
        let code_w = f64::from(modules.width()) * MODULE_MM;
        let code_h = f64::from(modules.height()) * MODULE_MM;
        let boxed_h = code_h + 2.0 * quiet_mm;
        // From the top of the first line's capitals to the last baseline.
        let text_h = FONT_MM * CAP_HEIGHT + 3.0 * LINE_MM;
        let height_mm = boxed_h.max(text_h + 2.0 * TEXT_MARGIN_MM);
        let text_top = (height_mm - text_h) / 2.0;
        let text_x_mm = code_w + 2.0 * quiet_mm + GAP_MM;
        let text_w = lines
            .iter()
            .map(|l| helvetica_width_mm(l, FONT_MM))
            .fold(0.0, f64::max);
        Self {
            code_x_mm: quiet_mm,
            code_y_mm: (height_mm - code_h) / 2.0,
            text_x_mm,
            first_baseline_mm: text_top + FONT_MM * CAP_HEIGHT,
            line_mm: LINE_MM,
            font_mm: FONT_MM,
            width_mm: text_x_mm + text_w + GAP_MM,
            height_mm,
            modules,
            module_mm: MODULE_MM,
            quiet_modules,
            lines,
        }
    }
}

/// Helvetica's capital height as a fraction of the font size.
pub(crate) const CAP_HEIGHT: f64 = 0.718;

/// Width of `text` set in Helvetica at `font_mm`, from the standard Helvetica metrics
/// (Adobe's AFM widths, in 1/1000 of the font size, for ASCII 32 to 126). Characters
/// outside that range count as wide as an `M`.
pub(crate) fn helvetica_width_mm(text: &str, font_mm: f64) -> f64 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let i = c as usize;
            if (32..=126).contains(&i) {
                u32::from(HELVETICA_WIDTHS[i - 32])
            } else {
                833
            }
        })
        .sum();
    f64::from(units) * font_mm / 1000.0
}

#[rustfmt::skip]
const HELVETICA_WIDTHS: [u16; 95] = [
    // space ! " # $ % & ' ( ) * + , - . /
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    // 0-9
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556,
    // : ; < = > ? @
    278, 278, 584, 584, 584, 556, 1015,
    // A-Z
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
    // [ \ ] ^ _ `
    278, 278, 278, 469, 556, 333,
    // a-z
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
    // { | } ~
    334, 260, 334, 584,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_sits_right_of_the_quiet_zone() {
        let data = LabelData::new("09506000134352", "ABC123", "L1", "2027-12-31").unwrap();
        for s in [Symbology::DataMatrix, Symbology::Qr] {
            let label = Label::new(&data, s, None).unwrap();
            let quiet = f64::from(label.quiet_modules) * label.module_mm;
            let code_right = label.code_x_mm + f64::from(label.modules.width()) * label.module_mm;
            assert!(label.text_x_mm >= code_right + quiet);
            assert!(label.code_y_mm >= quiet - 1e-9);
            assert!(label.width_mm > label.text_x_mm);
        }
    }

    #[test]
    fn helvetica_digits_are_half_wide() {
        assert!((helvetica_width_mm("00", 10.0) - 11.12).abs() < 1e-9);
    }
}
