//! A laid-out label as a PNG: whole pixels per module so every module edge is sharp,
//! text drawn from an 8x8 bitmap font (a PNG has no fonts; the vector formats use
//! Helvetica). Grayscale, white background.

use crate::LabelError;
use crate::layout::Label;
use image::{GrayImage, Luma};

/// Pixels per module: at 8, a 0.5 mm module gives 406 dpi, the resolution of a good
/// label printer, and phone cameras as well as `zbarimg` and `dmtxread` read it.
pub(crate) const PX_PER_MODULE: u32 = 8;
/// Each font pixel becomes a square of this many image pixels: 8x8 glyphs become 24 px,
/// about the height of the capitals in the vector formats.
const FONT_SCALE: u32 = 3;
/// Advance from one character to the next.
const GLYPH_PX: u32 = 8 * FONT_SCALE;

const BLACK: Luma<u8> = Luma([0]);

/// Writes `label` as PNG bytes.
pub(crate) fn write(label: &Label) -> Result<Vec<u8>, LabelError> {
    let image = draw(label);
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| LabelError::Encode {
            message: format!("PNG: {e}"),
        })?;
    Ok(bytes)
}

fn draw(label: &Label) -> GrayImage {
    let px_per_mm = f64::from(PX_PER_MODULE) / label.module_mm;
    let to_px = |mm: f64| (mm * px_per_mm).round() as u32;
    let quiet = label.quiet_modules * PX_PER_MODULE;
    let code_x = quiet;
    let code_w = label.modules.width() * PX_PER_MODULE;
    let code_h = label.modules.height() * PX_PER_MODULE;
    let line_px = to_px(label.line_mm).max(GLYPH_PX + 2);
    let text_h = GLYPH_PX + 3 * line_px;
    let height = to_px(label.height_mm)
        .max(code_h + 2 * quiet)
        .max(text_h + 2 * quiet);
    let code_y = (height - code_h) / 2;
    let text_x = code_x + code_w + quiet + to_px(1.5);
    let widest = label
        .lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let width = text_x + widest * GLYPH_PX + quiet;

    let mut image = GrayImage::from_pixel(width, height, Luma([255]));
    for y in 0..label.modules.height() {
        for (x, run) in label.modules.dark_runs(y) {
            fill(
                &mut image,
                code_x + x * PX_PER_MODULE,
                code_y + y * PX_PER_MODULE,
                run * PX_PER_MODULE,
                PX_PER_MODULE,
            );
        }
    }
    let text_y = (height - text_h) / 2;
    for (i, line) in label.lines.iter().enumerate() {
        draw_text(&mut image, text_x, text_y + i as u32 * line_px, line);
    }
    image
}

fn fill(image: &mut GrayImage, x0: u32, y0: u32, w: u32, h: u32) {
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            image.put_pixel(x, y, BLACK);
        }
    }
}

/// Draws `text` with its top-left corner at (`x`, `y`). Characters outside ASCII are
/// drawn as `?` (validated label data never has any).
fn draw_text(image: &mut GrayImage, x: u32, y: u32, text: &str) {
    for (i, c) in text.chars().enumerate() {
        let code = if c.is_ascii() {
            c as usize
        } else {
            '?' as usize
        };
        let glyph = font8x8::legacy::BASIC_LEGACY[code];
        let left = x + i as u32 * GLYPH_PX;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // Bit 0 is the leftmost pixel of the row.
                if bits & (1 << col) != 0 {
                    fill(
                        image,
                        left + col * FONT_SCALE,
                        y + row as u32 * FONT_SCALE,
                        FONT_SCALE,
                        FONT_SCALE,
                    );
                }
            }
        }
    }
}
