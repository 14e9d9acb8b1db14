//! Parse + validate throughput for the scans a warehouse sends all day.
//! Target: at least 500,000 element strings per second per core.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const PACK: &[u8] = b"]d2010950600013435217271231102024A\x1d21SN000123";
const SSCC: &[u8] = b"]C100095060001000000036";
const LINK: &[u8] = b"https://id.gs1.org/01/09506000134352/10/2024A/21/SN000123?17=271231";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("datamatrix_pack", |b| {
        b.iter(|| scanners::parse(black_box(PACK)))
    });
    g.bench_function("gs1_128_sscc", |b| {
        b.iter(|| scanners::parse(black_box(SSCC)))
    });
    g.bench_function("digital_link", |b| {
        b.iter(|| scanners::parse(black_box(LINK)))
    });
    g.bench_function("report_json", |b| {
        b.iter(|| scanners::report(black_box(PACK)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
