//! Each stage of the pipeline on small, 12 MP and 50 MP JPEGs; see README.md.
//!
//! `cargo bench -p thumbnail-bench` measures; `cargo test --benches` (what CI runs) executes
//! every benchmark once so they cannot rot.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use thumbnail_bench::inputs;
use thumbnail_core::stages::JpegDetail;
use thumbnail_core::{Limits, ThumbnailSpec, probe, stages};

fn limits() -> Limits {
    Limits::default().with_max_pixels(60_000_000)
}

fn bench(c: &mut Criterion) {
    let spec = ThumbnailSpec::default();
    let specs = [spec];
    for input in inputs() {
        let data = &input.bytes;
        let info = probe(data).expect("probe");
        let megapixels = u64::from(info.width) * u64::from(info.height);
        let decoded = stages::decode(data, &info, &specs, &limits()).expect("decode");
        let scale = decoded.scale;
        let upright = stages::normalise(decoded.clone(), &info, &specs);
        let pixels = stages::resize(&upright, info.upright_size(), &spec).expect("resize");

        let mut g = c.benchmark_group(input.name);
        g.sample_size(20);
        g.throughput(Throughput::Elements(megapixels));
        g.bench_function("probe", |b| b.iter(|| probe(black_box(data))));
        g.bench_function(
            BenchmarkId::new("entropy-decode", format!("1/{scale}")),
            |b| {
                b.iter(|| {
                    stages::decode_jpeg_scaled(black_box(data), scale, JpegDetail::Low, &limits())
                })
            },
        );
        g.bench_function("colour+orient", |b| {
            b.iter(|| stages::normalise(black_box(decoded.clone()), &info, &specs))
        });
        g.bench_function("resize", |b| {
            b.iter(|| stages::resize(black_box(&upright), info.upright_size(), &spec))
        });
        g.bench_function("encode", |b| {
            b.iter(|| stages::encode(black_box(&pixels), &spec))
        });
        g.bench_function("whole-pipeline", |b| {
            b.iter(|| thumbnail_core::thumbnail(black_box(data), &spec, &limits()))
        });
        g.finish();
    }
}

/// The colour stage on its own: an Adobe RGB photo, decoded at full size, to sRGB.
fn colour(c: &mut Criterion) {
    let path = thumbnail_bench::corpus().join("conformance/icc/adobergb1998-2000x1072.jpg");
    let data = std::fs::read(path).expect("corpus file");
    let info = probe(&data).expect("probe");
    let big = [ThumbnailSpec::sized(2000, 2000)];
    let decoded = stages::decode(&data, &info, &big, &limits()).expect("decode");
    let mut g = c.benchmark_group("adobe-rgb-2MP");
    g.sample_size(20);
    g.throughput(Throughput::Elements(
        u64::from(info.width) * u64::from(info.height),
    ));
    g.bench_function("colour-icc", |b| {
        b.iter(|| stages::to_srgb(black_box(decoded.bitmap.clone()), decoded.icc.as_deref()))
    });
    g.finish();
}

criterion_group!(benches, bench, colour);
criterion_main!(benches);
