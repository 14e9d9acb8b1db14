//! A laid-out label as SVG: millimetre units, the symbol as one path of dark runs,
//! the text in Helvetica or a font with the same metrics (Arial, Liberation Sans, Nimbus
//! Sans). Each line also carries its Helvetica width as `textLength`, so a browser that
//! falls back to a wider font squeezes the line to fit; for viewers that ignore
//! `textLength` (librsvg) the image is a little wider than the layout, enough for
//! DejaVu Sans, the usual fallback on Linux.

use crate::layout::{Label, helvetica_width_mm};
use std::fmt::Write;

/// How much wider than Helvetica a fallback font may set the text (DejaVu Sans: 14 %).
const FALLBACK_SLACK: f64 = 0.15;

/// Writes `label` as a standalone SVG document.
pub(crate) fn write(label: &Label) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let widest_line = label
        .lines
        .iter()
        .map(|l| helvetica_width_mm(l, label.font_mm))
        .fold(0.0, f64::max);
    let (w, h) = (
        label.width_mm + FALLBACK_SLACK * widest_line,
        label.height_mm,
    );
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.2}mm\" height=\"{h:.2}mm\" \
         viewBox=\"0 0 {w:.3} {h:.3}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
    );
    write_modules(&mut out, label);
    let _ = write!(
        out,
        "<g font-family=\"Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', sans-serif\" \
         font-size=\"{:.2}\" fill=\"#000\">",
        label.font_mm
    );
    for (i, line) in label.lines.iter().enumerate() {
        let y = label.first_baseline_mm + label.line_mm * i as f64;
        let length = helvetica_width_mm(line, label.font_mm);
        let _ = write!(
            out,
            "<text x=\"{:.3}\" y=\"{y:.3}\" textLength=\"{length:.3}\" \
             lengthAdjust=\"spacingAndGlyphs\">",
            label.text_x_mm
        );
        escape_into(&mut out, line);
        out.push_str("</text>");
    }
    out.push_str("</g></svg>\n");
    out
}

/// The symbol as one path in module units, scaled and moved into place, so the path
/// data holds small integers only.
fn write_modules(out: &mut String, label: &Label) {
    let _ = write!(
        out,
        "<path transform=\"translate({:.3} {:.3}) scale({})\" shape-rendering=\"crispEdges\" fill=\"#000\" d=\"",
        label.code_x_mm, label.code_y_mm, label.module_mm
    );
    let modules = &label.modules;
    for y in 0..modules.height() {
        for (x, run) in modules.dark_runs(y) {
            let _ = write!(out, "M{x} {y}h{run}v1h-{run}z");
        }
    }
    out.push_str("\"/>");
}

/// Escapes the five XML special characters (serials may hold `&`, `<`, `>`, quotes).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LabelData, Symbology};

    #[test]
    fn markup_characters_in_a_serial_are_escaped() {
        let data = LabelData::new("09506000134352", "A&B<C>\"'", "L1", "2027-12-31").unwrap();
        let svg = write(&Label::new(&data, Symbology::Qr, None).unwrap());
        assert!(svg.contains(">SN A&amp;B&lt;C&gt;&quot;&apos;</text>"));
        assert!(!svg.contains("A&B"));
    }
}
