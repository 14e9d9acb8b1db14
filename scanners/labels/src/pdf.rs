//! Laid-out labels as PDF: one label on a page of its own size, or many on A4 sheets in
//! a grid. Modules are vector rectangles, text is the built-in Helvetica, so the file
//! prints sharp at any resolution and needs no embedded font.

use crate::layout::Label;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

/// Points per millimetre.
const PT_PER_MM: f32 = 72.0 / 25.4;
/// A4 portrait, in millimetres.
const A4_MM: (f64, f64) = (210.0, 297.0);
/// Unprintable border most office printers leave, kept free on sheets.
const SHEET_MARGIN_MM: f64 = 10.0;
/// Space between neighbouring labels on a sheet.
const SHEET_GAP_MM: f64 = 2.0;
const FONT: Name<'static> = Name(b"F1");

/// One page holding `label` at its true size.
pub(crate) fn single(label: &Label) -> Vec<u8> {
    let page = Page {
        width_mm: label.width_mm,
        height_mm: label.height_mm,
        placed: vec![Placed {
            label,
            x_mm: 0.0,
            y_mm: 0.0,
            scale: 1.0,
        }],
        cut_guides: false,
    };
    write(&[page])
}

/// A4 pages with `labels` in rows and columns, in order, as many pages as needed. Every
/// cell has the size of the largest label; labels keep their true size (and so their
/// module size) unless the largest would not fit across the page, then all are
/// scaled down alike. Each label gets a light grey cutting outline.
pub(crate) fn sheet(labels: &[Label]) -> Vec<u8> {
    let (page_w, page_h) = A4_MM;
    let usable_w = page_w - 2.0 * SHEET_MARGIN_MM;
    let usable_h = page_h - 2.0 * SHEET_MARGIN_MM;
    let widest = labels.iter().map(|l| l.width_mm).fold(0.0, f64::max);
    let tallest = labels.iter().map(|l| l.height_mm).fold(0.0, f64::max);
    let scale = 1.0_f64.min(usable_w / widest).min(usable_h / tallest);
    let cell_w = widest * scale + SHEET_GAP_MM;
    let cell_h = tallest * scale + SHEET_GAP_MM;
    let columns = (((usable_w + SHEET_GAP_MM) / cell_w).floor() as usize).max(1);
    let rows = (((usable_h + SHEET_GAP_MM) / cell_h).floor() as usize).max(1);
    // Centre the grid on the page.
    let left = (page_w - (columns as f64 * cell_w - SHEET_GAP_MM)) / 2.0;
    let top = (page_h - (rows as f64 * cell_h - SHEET_GAP_MM)) / 2.0;

    let pages: Vec<Page<'_>> = labels
        .chunks(columns * rows)
        .map(|on_page| Page {
            width_mm: page_w,
            height_mm: page_h,
            placed: on_page
                .iter()
                .enumerate()
                .map(|(i, label)| Placed {
                    label,
                    x_mm: left + (i % columns) as f64 * cell_w,
                    y_mm: top + (i / columns) as f64 * cell_h,
                    scale,
                })
                .collect(),
            cut_guides: true,
        })
        .collect();
    write(&pages)
}

/// A label put on a page: top-left corner in millimetres from the page's top-left.
struct Placed<'a> {
    label: &'a Label,
    x_mm: f64,
    y_mm: f64,
    scale: f64,
}

struct Page<'a> {
    width_mm: f64,
    height_mm: f64,
    placed: Vec<Placed<'a>>,
    cut_guides: bool,
}

fn write(pages: &[Page<'_>]) -> Vec<u8> {
    // Object numbers: 1 catalog, 2 page tree, 3 font, 4 info, then a page and its
    // content stream for each page.
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let info = Ref::new(4);
    let page_ref = |i: usize| Ref::new(5 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(6 + 2 * i as i32);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages.len()).map(page_ref))
        .count(pages.len() as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(pdf_writer::TextStr("Pedigree labels"))
        .producer(pdf_writer::TextStr("Pedigree"));

    for (i, page) in pages.iter().enumerate() {
        let mut writer = pdf.page(page_ref(i));
        writer
            .parent(tree)
            .media_box(Rect::new(
                0.0,
                0.0,
                page.width_mm as f32 * PT_PER_MM,
                page.height_mm as f32 * PT_PER_MM,
            ))
            .contents(content_ref(i));
        writer.resources().fonts().pair(FONT, font);
        writer.finish();

        let mut content = Content::new();
        for placed in &page.placed {
            draw(&mut content, placed, page.height_mm, page.cut_guides);
        }
        let raw = content.finish();
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        pdf.stream(content_ref(i), &packed)
            .filter(Filter::FlateDecode);
    }
    pdf.finish()
}

/// Draws one label. The coordinate system is moved so that one unit is one millimetre
/// of the label and the origin is its bottom-left corner (PDF's y axis points up).
fn draw(content: &mut Content, placed: &Placed<'_>, page_h_mm: f64, cut_guide: bool) {
    let label = placed.label;
    let s = placed.scale as f32 * PT_PER_MM;
    let bottom = page_h_mm - placed.y_mm - label.height_mm * placed.scale;
    content.save_state();
    content.transform([
        s,
        0.0,
        0.0,
        s,
        placed.x_mm as f32 * PT_PER_MM,
        bottom as f32 * PT_PER_MM,
    ]);
    let (w, h) = (label.width_mm as f32, label.height_mm as f32);
    if cut_guide {
        content
            .set_stroke_gray(0.75)
            .set_line_width(0.1)
            .rect(0.0, 0.0, w, h)
            .stroke();
    }

    let m = label.module_mm as f32;
    let (cx, cy) = (label.code_x_mm as f32, label.code_y_mm as f32);
    content.set_fill_gray(0.0);
    for y in 0..label.modules.height() {
        let top = cy + y as f32 * m;
        for (x, run) in label.modules.dark_runs(y) {
            content.rect(cx + x as f32 * m, h - top - m, run as f32 * m, m);
        }
    }
    content.fill_nonzero();

    content.begin_text();
    content.set_font(FONT, label.font_mm as f32);
    for (i, line) in label.lines.iter().enumerate() {
        let baseline = label.first_baseline_mm + label.line_mm * i as f64;
        // Absolute position for each line: a text matrix, not a relative move.
        content.set_text_matrix([
            1.0,
            0.0,
            0.0,
            1.0,
            label.text_x_mm as f32,
            h - baseline as f32,
        ]);
        content.show(Str(line.as_bytes()));
    }
    content.end_text();
    content.restore_state();
}
