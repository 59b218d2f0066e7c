//! The compositional proof of `lint` (`src/lint/groups.rs`) checked against the whole build's
//! exhaustive search on generated Dockerfiles whose RUNs use several caches: whenever every cache
//! group holds, the whole build holds; whenever the whole build is violated, some group is. The
//! generator mixes shared and locked mounts, tools that contend (apt), read-modify-writes and
//! removals, so that violations are common (the test counts them and requires some).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use mountfuzz::check::Intent;
use mountfuzz::engine::{Engine, Profile};
use mountfuzz::explore::{Budget, Options, Strategy, Verdict};
use mountfuzz::lint::groups;
use mountfuzz::run::{RunConfig, run};
use mountfuzz::scenario::import::build_of;
use mountfuzz::scenario::{Build, Step, Suite, TestCase};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

const COMMANDS: [&str; 6] = [
    "echo x > {c}/f",
    "cat {c}/f",
    "touch {c}/f && cat {c}/f && echo y > {c}/f",
    "rm -f {c}/f",
    "apt-get update",
    "ls {c}",
];

fn dockerfile(runs: &[(u8, u8, bool, u8)]) -> String {
    let mut s = String::from("FROM debian\n");
    for &(c1, c2, locked, cmd) in runs {
        let mount = |c: u8| {
            format!(
                "--mount=type=cache,id=c{c},target=/c{c}{}",
                if locked { ",sharing=locked" } else { "" }
            )
        };
        let mut m = mount(c1);
        if c2 != c1 {
            m = format!("{m} {}", mount(c2));
        }
        let command = COMMANDS[cmd as usize % COMMANDS.len()].replace("{c}", &format!("/c{c1}"));
        s.push_str(&format!("RUN {m} {command}\n"));
    }
    s
}

fn copies(build: &Build, n: usize) -> Suite {
    Suite {
        name: "g".into(),
        tests: (0..n)
            .map(|i| TestCase {
                name: format!("build-{i}"),
                steps: vec![Step::Build(build.clone())],
            })
            .collect(),
    }
}

/// `Some(true)` holds, `Some(false)` violated, `None` neither proved nor violated.
fn verdict(suite: Suite, engine: Engine) -> Option<bool> {
    let rep = run(RunConfig {
        suite,
        profile: Profile::new(engine),
        world: World::new(Topology::Local, Remedy::None),
        sharing: None,
        strategy: Strategy::Dfs { por: true },
        budget: Budget::new(300_000, 20.0),
        options: Options {
            oracles: Intent::SharedCache.oracles(),
            ..Options::default()
        },
        shrink_time: std::time::Duration::ZERO,
    })
    .ok()?;
    if !rep.deterministic.is_empty() || matches!(rep.outcome.verdict, Verdict::Violated(_)) {
        Some(false)
    } else if rep.holds() {
        Some(true)
    } else {
        None
    }
}

#[test]
fn groups_hold_only_when_the_whole_build_holds() {
    let (compared, violated) = (AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config("proptest-regressions/lint_groups.txt", 256);
    proptest!(config, |(
        runs in prop::collection::vec((0u8..4, 0u8..4, any::<bool>(), 0u8..6), 2..6),
        engine in prop::sample::select(Engine::ALL.to_vec()),
    )| {
        let text = dockerfile(&runs);
        let Ok((build, _, _)) = build_of("Dockerfile", &text, &BTreeMap::new(), engine.dialect()) else {
            return Ok(());
        };
        let Some(split) = groups::split(&build.runs, engine, false) else {
            return Ok(());
        };
        let Some(whole) = verdict(copies(&build, 2), engine) else {
            return Ok(());
        };
        let mut parts = Vec::new();
        for g in &split {
            let part = Build {
                runs: g.iter().map(|&i| build.runs[i].clone()).collect(),
                source: None,
                ..build.clone()
            };
            parts.push(verdict(copies(&part, 2), engine));
        }
        if parts.iter().all(|p| *p == Some(true)) {
            prop_assert!(whole, "groups hold but the whole build does not, on {engine}:\n{text}");
        }
        if !whole {
            violated.fetch_add(1, Ordering::Relaxed);
            prop_assert!(
                parts.iter().any(|p| *p != Some(true)),
                "the whole build is violated but every group holds, on {engine}:\n{text}"
            );
        }
        compared.fetch_add(1, Ordering::Relaxed);
    });
    let (c, v) = (compared.into_inner(), violated.into_inner());
    eprintln!("compared {c}, violated {v}");
    assert!(c >= 20, "only {c} cases with several groups were compared");
    assert!(
        v >= 3,
        "only {v} of {c} compared cases had a violation: the check is not at stake"
    );
}
