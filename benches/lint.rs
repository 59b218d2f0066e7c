//! `mountfuzz lint`'s speed, on the released profiles (buildkit, buildah@1.39, buildah@1.28) with
//! 2 copies: the apt pattern at `sharing=shared` (a finding, then an exhaustive proof of the rest)
//! and at `sharing=locked` (an exhaustive proof); `benches/data/typical.Dockerfile` (12 cache
//! RUNs in five stages, proved cache group by cache group); and every file of
//! `tests/data/corpus` at 2 s per exploration. `cargo bench --bench lint`.

use criterion::{Criterion, criterion_group, criterion_main};
use mountfuzz::lint::{Options, lint};

const APT: &str = "FROM debian:bookworm-slim
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt \\
    --mount=type=cache,target=/var/lib/apt \\
    apt-get update && apt-get install -y --no-install-recommends gcc
";

fn bench(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let opts = Options::default();
    let locked = APT
        .replace(
            "target=/var/cache/apt ",
            "target=/var/cache/apt,sharing=locked ",
        )
        .replace(
            "target=/var/lib/apt ",
            "target=/var/lib/apt,sharing=locked ",
        );
    c.bench_function("lint apt caches shared (MF002)", |b| {
        b.iter(|| lint("Dockerfile", APT, &opts).unwrap())
    });
    c.bench_function("lint apt caches locked (clean)", |b| {
        b.iter(|| lint("Dockerfile", &locked, &opts).unwrap())
    });
    let typical =
        std::fs::read_to_string(format!("{root}/benches/data/typical.Dockerfile")).unwrap();
    c.bench_function("lint typical.Dockerfile (12 cache RUNs)", |b| {
        b.iter(|| lint("typical.Dockerfile", &typical, &opts).unwrap())
    });
    let mut g = c.benchmark_group("slow");
    g.sample_size(10);
    let mut corpus = Vec::new();
    for e in std::fs::read_dir(format!("{root}/tests/data/corpus")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name != "ORIGINS" && !name.starts_with("README") {
            corpus.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    let two = Options {
        seconds: 2.0,
        ..Options::default()
    };
    g.bench_function("lint the whole corpus (2 s per search)", |b| {
        b.iter(|| {
            for (n, t) in &corpus {
                lint(n, t, &two).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
