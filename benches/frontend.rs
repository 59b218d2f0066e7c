//! The Dockerfile frontend's speed: import of a 100-stage Dockerfile, and import plus an
//! exhaustive run of two parallel copies of it; and the whole `tests/data/corpus` through
//! `mountfuzz::corpus::check` on every engine. `cargo bench --bench frontend`.

use criterion::{Criterion, criterion_group, criterion_main};
use mountfuzz::check::Intent;
use mountfuzz::engine::Engine;
use mountfuzz::mount::Dialect;
use mountfuzz::scenario::import::{ImportOptions, import};

/// A 100-stage Dockerfile: each stage builds on the last and runs one cache RUN with a heredoc,
/// a loop and a tool, on one shared cache.
fn hundred_stages() -> String {
    let mut s = String::from(
        "# syntax=docker/dockerfile:1\nARG BASE=debian\nFROM $BASE AS s0\nENV CACHE=/cache\n",
    );
    for i in 1..100 {
        s.push_str(&format!(
            "FROM s{p} AS s{i}\nWORKDIR /w{i}\nRUN --mount=type=cache,target=$CACHE,id=c{i} <<EOF\nset -e\nfor f in a b; do echo $f >> $CACHE/log-{i}; done\ncat $CACHE/log-{i}\nEOF\n",
            p = i - 1
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = hundred_stages();
    let files = vec![("big.Dockerfile".to_string(), text.clone())];
    c.bench_function("import a 100-stage Dockerfile", |b| {
        b.iter(|| import(&files, Dialect::BuildKit, ImportOptions::default()))
    });
    c.bench_function("import and prove 2 copies of a 100-stage Dockerfile", |b| {
        b.iter(|| {
            let rs =
                mountfuzz::corpus::check(&files, &[Engine::BuildKit], 2, 10.0, Intent::SharedCache);
            assert_eq!(rs[0].verdicts[0].1, "holds");
        })
    });
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus");
    let mut corpus: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "ORIGINS" && n != "README.md")
        })
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    corpus.sort();
    let mut g = c.benchmark_group("corpus");
    g.sample_size(10);
    g.bench_function("every corpus file, 2 copies, every engine", |b| {
        b.iter(|| mountfuzz::corpus::check(&corpus, &Engine::ALL, 2, 10.0, Intent::SharedCache))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
