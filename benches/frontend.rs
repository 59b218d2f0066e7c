//! The Dockerfile frontend's speed: import of a 100-stage Dockerfile, and import plus an
//! exhaustive run of two parallel copies of it; and the whole `tests/data/corpus` through
//! `mountfuzz::corpus::check` on every engine. `cargo bench --bench frontend`.

use criterion::{Criterion, criterion_group, criterion_main};
use mountfuzz::check::Intent;
use mountfuzz::engine::Engine;
use mountfuzz::mount::Dialect;
use mountfuzz::scenario::import::{ImportOptions, import};

/// A 100-stage Dockerfile: each stage builds on the last and runs one cache RUN with a heredoc,
/// a loop and a tool on the stage's cache; `writes` makes the loop append (else it only looks).
fn hundred_stages(writes: bool) -> String {
    let mut s = String::from(
        "# syntax=docker/dockerfile:1\nARG BASE=debian\nFROM $BASE AS s0\nENV CACHE=/cache\n",
    );
    for i in 1..100 {
        let body = if writes {
            format!("for f in a b; do echo $f >> $CACHE/log-{i}; done\ncat $CACHE/log-{i}")
        } else {
            format!("for f in a b; do test -f $CACHE/$f-{i} || true; done\nls $CACHE")
        };
        s.push_str(&format!(
            "FROM s{p} AS s{i}\nWORKDIR /w{i}\nRUN --mount=type=cache,target=$CACHE,id=c{i} <<EOF\nset -e\n{body}\nEOF\n",
            p = i - 1
        ));
    }
    s
}

fn one(name: &str, text: String) -> Vec<(String, String)> {
    vec![(name.to_string(), text)]
}

fn bench(c: &mut Criterion) {
    let writing = one("writes.Dockerfile", hundred_stages(true));
    let looking = one("looks.Dockerfile", hundred_stages(false));
    c.bench_function("import a 100-stage Dockerfile", |b| {
        b.iter(|| import(&writing, Dialect::BuildKit, ImportOptions::default()))
    });
    // Two copies that only look at their caches: every look commutes, one trace, a proof.
    c.bench_function(
        "import and prove 2 copies of a 100-stage Dockerfile that looks",
        |b| {
            b.iter(|| {
                let rs = mountfuzz::corpus::check(
                    &looking,
                    &[Engine::BuildKit],
                    2,
                    10.0,
                    Intent::SharedCache,
                );
                assert_eq!(rs[0].verdicts[0].1, "holds");
            })
        },
    );
    // Two copies that append: 99 independent pairs of racing RUNs, so the traces multiply past
    // any proof; 1,000 random schedules, as `mountfuzz run` samples by default.
    c.bench_function(
        "import and sample 1,000 schedules of 2 copies of a 100-stage Dockerfile that appends",
        |b| {
            b.iter(|| {
                let imp = import(&writing, Dialect::BuildKit, ImportOptions::default());
                let mut suite = imp.suite.clone();
                let t = suite.tests[0].clone();
                suite.tests = vec![
                    t.clone(),
                    mountfuzz::scenario::TestCase {
                        name: "copy-2".into(),
                        ..t
                    },
                ];
                let r = mountfuzz::run::Check::new(suite)
                    .engine(Engine::BuildKit)
                    .topology(mountfuzz::world::Topology::Local)
                    .oracles(&[
                        mountfuzz::check::Oracle::ToolContention,
                        mountfuzz::check::Oracle::Expectation,
                    ])
                    .schedules(1_000)
                    .seconds(10.0)
                    .run()
                    .unwrap();
                assert_eq!(r.verdict_name(), "not-found");
            })
        },
    );
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
