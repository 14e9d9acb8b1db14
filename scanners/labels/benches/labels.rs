//! How many labels per second `render` makes as SVG, for each symbology (target for QR:
//! at least 1,000 per second), and as PNG and PDF for comparison. Serials vary per
//! iteration so no encoder shortcut hides the work.

// `criterion_group!` defines a public function without docs.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labels::{Format, LabelData, Symbology, render};
use std::hint::black_box;

fn data(n: u64) -> LabelData {
    LabelData::new(
        "09506000134352",
        &format!("SN{n:012}"),
        "BATCH-2026/07",
        "2027-12-31",
    )
    .expect("valid bench data")
}

fn bench_format(c: &mut Criterion, format: Format) {
    let mut group = c.benchmark_group(format!("label_{}", format.extension()));
    group.throughput(Throughput::Elements(1));
    for symbology in [Symbology::Qr, Symbology::DataMatrix] {
        let mut n = 0u64;
        group.bench_function(symbology.name(), |b| {
            b.iter(|| {
                n += 1;
                black_box(render(&data(n), symbology, format, None).expect("renders"))
            })
        });
    }
    group.finish();
}

fn labels(c: &mut Criterion) {
    bench_format(c, Format::Svg);
    bench_format(c, Format::Png);
    bench_format(c, Format::Pdf);
}

criterion_group!(benches, labels);
criterion_main!(benches);
