//! `mountfuzz lint`: every rule has a Dockerfile (or script) that triggers it and one that does
//! not (`tests/data/lint/<ID>.bad.*`, `<ID>.good.*`, each with its flags on a `# lint:` line);
//! SARIF is checked against the SARIF 2.1.0 schema; inline ignores, the config file, the exit
//! codes and the whole corpus are exercised through the binary and the library.

use std::path::{Path, PathBuf};
use std::process::Command;

use mountfuzz::engine::Engine;
use mountfuzz::lint::{self, Options, RULES, output};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

/// The options a fixture's `# lint:` line asks for.
fn options_of(text: &str) -> Options {
    let mut o = Options {
        seconds: 20.0,
        ..Options::default()
    };
    let line = text
        .lines()
        .find_map(|l| l.trim_start_matches("# ").strip_prefix("lint:"))
        .unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut engines = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "--engine" => {
                engines.push(words[i + 1].parse::<Engine>().unwrap());
                i += 1;
            }
            "--remote" => o.remote = true,
            "--prune" => o.prune = true,
            w => panic!("unknown fixture flag {w}"),
        }
        i += 1;
    }
    if !engines.is_empty() {
        o.engines = engines;
    }
    o
}

fn fixture(rule: &str, kind: &str) -> (String, String) {
    let dir = data("lint");
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(&format!("{rule}.{kind}.")))
        .unwrap_or_else(|| panic!("{rule} has no {kind} fixture in tests/data/lint"));
    let path = dir.join(&name);
    (
        path.display().to_string(),
        std::fs::read_to_string(&path).unwrap(),
    )
}

#[test]
fn every_rule_has_a_triggering_and_a_clean_fixture() {
    for r in RULES {
        let (bad, text) = fixture(r.id, "bad");
        let rep = lint::lint(&bad, &text, &options_of(&text)).unwrap();
        let hit = rep.findings.iter().find(|f| f.rule.id == r.id);
        assert!(
            hit.is_some(),
            "{bad} does not trigger {}: {:?}",
            r.id,
            rep.findings
        );
        let hit = hit.unwrap();
        // The finding points at a RUN (or the script's build command) of the file.
        let line = text.lines().nth(hit.line - 1).unwrap();
        assert!(
            line.starts_with("RUN") || line.contains("build"),
            "{bad}:{} is not a RUN: {line}",
            hit.line
        );
        let (good, text) = fixture(r.id, "good");
        let rep = lint::lint(&good, &text, &options_of(&text)).unwrap();
        assert!(
            rep.findings.is_empty(),
            "{good} should lint clean: {:?}",
            rep.findings
        );
        // Clean means proved, not just not found.
        assert!(rep.proved(), "{good}: {:?}", rep.coverage);
    }
}

#[test]
fn rule_ids_are_unique_and_every_rule_is_documented_in_the_readme() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for (i, r) in RULES.iter().enumerate() {
        assert!(RULES[..i].iter().all(|o| o.id != r.id && o.name != r.name));
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", r.id)))
            .unwrap_or_else(|| panic!("{} has no README entry", r.id));
        for part in [r.name, r.title, r.fix, r.source, r.engines] {
            assert!(
                row.contains(part),
                "{}: the README row lacks {part:?}",
                r.id
            );
        }
        assert!(r.source.starts_with("https://"), "{}: {}", r.id, r.source);
    }
}

const APT_SHARED: &str = "FROM debian:bookworm-slim
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt \\
    --mount=type=cache,target=/var/lib/apt \\
    apt-get update && apt-get install -y --no-install-recommends build-essential
";

#[test]
fn apt_caches_shared_are_flagged_on_buildkit_with_the_lock_named_and_locked_lints_clean() {
    let opts = Options {
        engines: vec![Engine::BuildKit],
        ..Options::default()
    };
    let rep = lint::lint("Dockerfile", APT_SHARED, &opts).unwrap();
    let f = rep
        .findings
        .iter()
        .find(|f| f.rule.id == "MF002")
        .expect("MF002");
    assert_eq!(f.line, 3);
    assert!(f.message.contains("Could not get lock"), "{}", f.message);
    assert_eq!(f.engines, vec![Engine::BuildKit]);
    let locked = APT_SHARED
        .replace(
            "target=/var/cache/apt ",
            "target=/var/cache/apt,sharing=locked ",
        )
        .replace(
            "target=/var/lib/apt ",
            "target=/var/lib/apt,sharing=locked ",
        );
    assert!(locked.matches("sharing=locked").count() == 2);
    let rep = lint::lint("Dockerfile", &locked, &opts).unwrap();
    assert!(rep.findings.is_empty(), "{:?}", rep.findings);
    assert!(rep.proved());
    // Two RUNs that run apt, each with one apt cache locked, still meet on the other cache.
    let split = "FROM debian:bookworm-slim
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt apt-get update
RUN --mount=type=cache,target=/var/lib/apt,sharing=locked --mount=type=cache,target=/var/cache/apt apt-get install -y gcc
";
    let rep = lint::lint("Dockerfile", split, &opts).unwrap();
    assert!(
        rep.findings.iter().any(|f| f.rule.id == "MF002"),
        "{:?}",
        rep.findings
    );
}

/// The SARIF 2.1.0 schema that serde-sarif is generated from (found through cargo metadata, so
/// nothing is copied into this repository).
fn sarif_schema() -> serde_json::Value {
    let rustc = Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            // Only this platform's packages are on disk (a fresh machine has no Windows crates).
            "--filter-platform",
            &host,
            "--manifest-path",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .unwrap()["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    let schema = Path::new(&manifest)
        .parent()
        .unwrap()
        .join("src/schema.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
    assert!(v["title"].as_str().unwrap().contains("2.1.0"));
    v
}

const DOUBLE_LOCKED: &str = "FROM alpine:3.20
ARG CACHE=build
# one RUN, two locked mounts of one cache
RUN --mount=type=cache,id=${CACHE},target=/a,sharing=locked --mount=type=cache,id=${CACHE},target=/b,sharing=locked touch /a/x
";

#[test]
fn double_locked_mount_is_flagged_for_1_28_at_its_run_line_in_valid_sarif() {
    let opts = Options {
        engines: vec!["buildah@1.28".parse().unwrap(), Engine::BuildKit],
        ..Options::default()
    };
    let rep = lint::lint("ci/Containerfile", DOUBLE_LOCKED, &opts).unwrap();
    let f = rep.findings.iter().find(|f| f.rule.id == "MF001").unwrap();
    assert_eq!(f.line, 4);
    // BuildKit gives both mounts one instance: not flagged there.
    assert_eq!(f.engines, vec!["buildah@1.28".parse::<Engine>().unwrap()]);
    let sarif = serde_json::to_value(output::to_sarif(std::slice::from_ref(&rep))).unwrap();
    let schema = sarif_schema();
    // The schema's `language` patterns are not valid ECMA-262 regexes (a lone `]`), which the
    // validator refuses; that one character is escaped, and everything else is as published.
    fn mend(v: &mut serde_json::Value, n: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = serde_json::json!("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                        *n += 1;
                    } else {
                        mend(x, n);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| mend(x, n)),
            _ => {}
        }
    }
    let mut schema = schema;
    let mut mended = 0;
    mend(&mut schema, &mut mended);
    assert!(mended >= 1);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "mountfuzz");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    for r in rules {
        assert!(r["fullDescription"]["text"].as_str().unwrap().len() > 20);
        assert!(r["helpUri"].as_str().unwrap().starts_with("https://"));
    }
    let res = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "MF001")
        .unwrap();
    assert_eq!(
        res["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "ci/Containerfile"
    );
    // A broken document fails the same schema: the check can fail.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn an_inline_ignore_silences_the_rule_it_names_and_only_that() {
    let opts = Options {
        engines: vec!["buildah@1.28".parse().unwrap()],
        ..Options::default()
    };
    let ignored = DOUBLE_LOCKED.replace("# one RUN", "# mountfuzz ignore=MF001\n# one RUN");
    let rep = lint::lint("Dockerfile", &ignored, &opts).unwrap();
    assert!(rep.findings.iter().all(|f| f.rule.id != "MF001"));
    assert_eq!(rep.ignored, 1);
    let other = DOUBLE_LOCKED.replace("# one RUN", "# mountfuzz ignore=MF002\n# one RUN");
    let rep = lint::lint("Dockerfile", &other, &opts).unwrap();
    assert!(rep.findings.iter().any(|f| f.rule.id == "MF001"));
    // Only the line right above (through comments) counts: not one before another instruction.
    let far = DOUBLE_LOCKED.replace("ARG CACHE", "# mountfuzz ignore=MF001\nARG CACHE");
    let rep = lint::lint("Dockerfile", &far, &opts).unwrap();
    assert!(rep.findings.iter().any(|f| f.rule.id == "MF001"));
}

#[test]
fn every_corpus_file_lints_without_a_crash() {
    let dir = data("corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "ORIGINS" || name.starts_with("README") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let opts = Options {
            seconds: 2.0,
            ..Options::default()
        };
        let rep = lint::lint(&name, &text, &opts);
        let rep = rep.unwrap_or_else(|e| panic!("{name}: {e}"));
        // Every engine's exploration is accounted for.
        assert!(rep.coverage.len() >= opts.engines.len(), "{name}");
        for f in &rep.findings {
            assert!(
                f.line >= 1 && f.line <= text.lines().count(),
                "{name}: {f:?}"
            );
        }
        n += 1;
    }
    assert!(n >= 100, "{n}");
}

#[test]
fn a_suite_that_keeps_tests_apart_with_tmpdir_is_flagged_remote() {
    let suite = mountfuzz::scenario::load("buildah-bud-cache", mountfuzz::mount::Dialect::Buildah)
        .unwrap()
        .to_toml(mountfuzz::mount::Dialect::Buildah);
    let opts = Options {
        engines: vec!["buildah@1.39".parse().unwrap()],
        ..Options::default()
    };
    let rep = lint::lint("bud.toml", &suite, &opts).unwrap();
    assert!(
        rep.findings.iter().any(|f| f.rule.id == "MF010"),
        "{:?} {:?}",
        rep.findings,
        rep.coverage
    );
}

fn mountfuzz(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mountfuzz"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_config_file_and_formats_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("Dockerfile"), APT_SHARED).unwrap();
    std::fs::write(
        d.join("clean.Dockerfile"),
        "FROM alpine\nRUN --mount=type=cache,target=/c,sharing=locked echo hi > /c/x\n",
    )
    .unwrap();
    std::fs::write(
        d.join("broken.Dockerfile"),
        "FROM alpine\nRUN --mount=type=cache,target=/c,sharing=sometimes true\n",
    )
    .unwrap();
    let (rc, out, _) = mountfuzz(&["lint", "--engine", "buildkit", "Dockerfile"], d);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("Dockerfile:3 MF002 error:"), "{out}");
    let (rc, out, _) = mountfuzz(&["lint", "clean.Dockerfile"], d);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("exhaustive proof"), "{out}");
    // Bad input: file:line and the problem, exit 2.
    let (rc, _, err) = mountfuzz(&["lint", "broken.Dockerfile"], d);
    assert_eq!(rc, 2);
    assert!(
        err.contains("broken.Dockerfile:2:") && err.contains("sharing"),
        "{err}"
    );
    let (rc, _, err) = mountfuzz(&["lint", "missing.Dockerfile"], d);
    assert_eq!(rc, 2);
    assert!(err.contains("missing.Dockerfile"), "{err}");
    let (rc, _, err) = mountfuzz(&["lint", "--ignore", "MF999", "Dockerfile"], d);
    assert_eq!(rc, 2);
    assert!(err.contains("MF999"), "{err}");
    let (rc, _, _) = mountfuzz(&["lint", "--format", "yaml", "Dockerfile"], d);
    assert_eq!(rc, 2);
    // --ignore and the threshold.
    let (rc, _, _) = mountfuzz(
        &[
            "lint",
            "--engine",
            "buildkit",
            "--ignore",
            "MF002",
            "Dockerfile",
        ],
        d,
    );
    assert_eq!(rc, 0);
    // The config file: found in the current directory; an unknown key is bad input.
    std::fs::write(
        d.join(".mountfuzz.yaml"),
        "ignored: [MF002]\nengines: [buildkit]\n",
    )
    .unwrap();
    let (rc, out, _) = mountfuzz(&["lint", "Dockerfile"], d);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("1 finding(s) ignored"), "{out}");
    std::fs::write(
        d.join(".mountfuzz.yaml"),
        "engines: [buildkit]\nfailure-threshold: none\n",
    )
    .unwrap();
    let (rc, out, _) = mountfuzz(&["lint", "Dockerfile"], d);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("MF002"), "{out}");
    std::fs::write(d.join(".mountfuzz.yaml"), "ignore: [MF002]\n").unwrap();
    let (rc, _, err) = mountfuzz(&["lint", "Dockerfile"], d);
    assert_eq!(rc, 2);
    assert!(
        err.contains(".mountfuzz.yaml") && err.contains("ignore"),
        "{err}"
    );
    std::fs::remove_file(d.join(".mountfuzz.yaml")).unwrap();
    // JSON and checkstyle.
    let (rc, out, _) = mountfuzz(
        &[
            "lint",
            "--engine",
            "buildkit",
            "--format",
            "json",
            "Dockerfile",
        ],
        d,
    );
    assert_eq!(rc, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["code"], "MF002");
    assert_eq!(v["files"][0]["coverage"][0]["proof"], "exhaustive");
    let (_, out, _) = mountfuzz(
        &[
            "lint",
            "--engine",
            "buildkit",
            "--format",
            "checkstyle",
            "Dockerfile",
        ],
        d,
    );
    assert!(
        out.contains("<error line=\"3\"") && out.contains("source=\"mountfuzz.MF002\""),
        "{out}"
    );
    // --output writes atomically and never over a file mountfuzz did not write.
    std::fs::write(d.join("mine.sarif"), "my notes").unwrap();
    let (rc, _, err) = mountfuzz(
        &[
            "lint",
            "--engine",
            "buildkit",
            "--format",
            "sarif",
            "--output",
            "mine.sarif",
            "Dockerfile",
        ],
        d,
    );
    assert_eq!(rc, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("mine.sarif")).unwrap(),
        "my notes"
    );
    let (rc, _, _) = mountfuzz(
        &[
            "lint",
            "--engine",
            "buildkit",
            "--format",
            "sarif",
            "--output",
            "out.sarif",
            "Dockerfile",
        ],
        d,
    );
    assert_eq!(rc, 1);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.sarif")).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    // stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mountfuzz"))
        .args(["lint", "--engine", "buildkit", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(APT_SHARED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_file_errors_name_the_file_and_the_key() {
    use mountfuzz::lint::config::parse;
    assert!(parse("", "x").unwrap().engines.is_empty());
    let c = parse("ignored: [MF001]\nengines: [buildkit, buildah@1.39]\nfailure-threshold: warning\ncopies: 3\n", "c.yaml").unwrap();
    assert_eq!(c.engines.len(), 2);
    assert_eq!(c.config.copies, Some(3));
    for (text, want) in [
        ("engines: [docker]", "engines"),
        ("failure-threshold: loud", "failure-threshold"),
        ("ignored: [DL3008]", "DL3008"),
        ("copies: 0", "copies"),
        ("colour: red", "colour"),
        ("engines: [", "c.yaml"),
    ] {
        let e = parse(text, "c.yaml").unwrap_err();
        assert!(e.contains("c.yaml") && e.contains(want), "{text}: {e}");
    }
}

/// The hook of `.pre-commit-hooks.yaml`, run by the real pre-commit (from PyPI; `.ci/run`
/// installs it and sets `MOUNTFUZZ_PRE_COMMIT`) with `pre-commit try-repo` on this repository.
#[test]
fn the_pre_commit_hook_runs_under_real_pre_commit() {
    let Ok(pre_commit) = std::env::var("MOUNTFUZZ_PRE_COMMIT") else {
        assert!(
            std::env::var_os("MOUNTFUZZ_REQUIRE_REAL").is_none(),
            "MOUNTFUZZ_REQUIRE_REAL is set but MOUNTFUZZ_PRE_COMMIT (the pre-commit binary) is not"
        );
        eprintln!("skipped: MOUNTFUZZ_PRE_COMMIT is not set");
        return;
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = Path::new(env!("CARGO_BIN_EXE_mountfuzz")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .args(args)
            .current_dir(w)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    git(&["init", "-q"]);
    let hook = |file: &str| {
        Command::new(&pre_commit)
            .args([
                "try-repo",
                &repo.display().to_string(),
                "mountfuzz-lint-system",
                "--files",
                file,
            ])
            .current_dir(w)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", w.join(".cache"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap()
    };
    std::fs::write(w.join("Dockerfile"), APT_SHARED).unwrap();
    std::fs::write(
        w.join("Dockerfile.locked"),
        APT_SHARED
            .replace(
                "target=/var/cache/apt ",
                "target=/var/cache/apt,sharing=locked ",
            )
            .replace(
                "target=/var/lib/apt ",
                "target=/var/lib/apt,sharing=locked ",
            ),
    )
    .unwrap();
    git(&["add", "."]);
    let out = hook("Dockerfile");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("MF002") && text.contains("Failed"), "{text}");
    let out = hook("Dockerfile.locked");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Passed"), "{text}");
}

#[test]
fn a_build_with_independent_caches_is_proved_group_by_group_and_its_hazards_still_found() {
    let opts = Options {
        engines: vec![Engine::BuildKit, "buildah@1.39".parse().unwrap()],
        ..Options::default()
    };
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/typical.Dockerfile"),
    )
    .unwrap();
    let rep = lint::lint("typical.Dockerfile", &text, &opts).unwrap();
    assert!(rep.findings.is_empty(), "{:?}", rep.findings);
    let copies: Vec<_> = rep
        .coverage
        .iter()
        .filter(|c| c.setting.contains("copies"))
        .collect();
    assert_eq!(copies.len(), 2);
    for c in copies {
        assert_eq!(c.proof, "exhaustive-by-group", "{c:?}");
        assert!(
            c.detail.as_deref().unwrap().contains("5 cache groups"),
            "{c:?}"
        );
    }
    // The same build with its apt caches shared: the apt group's search finds the contention,
    // and the whole build's search reports it at the apt RUN.
    let shared = text.replace(
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n    apt-get update && apt-get install -y --no-install-recommends python3-pip",
        "RUN --mount=type=cache,target=/var/cache/apt \\\n    --mount=type=cache,target=/var/lib/apt \\\n    apt-get update && apt-get install -y --no-install-recommends python3-pip",
    );
    assert_ne!(shared, text);
    let opts = Options {
        engines: vec![Engine::BuildKit],
        ..Options::default()
    };
    let rep = lint::lint("typical.Dockerfile", &shared, &opts).unwrap();
    let f = rep
        .findings
        .iter()
        .find(|f| f.rule.id == "MF002")
        .expect("MF002");
    assert!(
        shared
            .lines()
            .nth(f.line - 1)
            .unwrap()
            .starts_with("RUN --mount=type=cache,target=/var/cache/apt")
    );
}

#[test]
fn a_prune_beside_the_builds_takes_cache_content_a_later_run_needs() {
    // Locked, so the copies never meet mid-write (a shared cache would be a torn read, MF017).
    let text = "FROM alpine
RUN --mount=type=cache,id=dl,target=/dl,sharing=locked echo pkg > /dl/pkg.tar
RUN --mount=type=cache,id=dl,target=/dl,sharing=locked cat /dl/pkg.tar > /pkg.tar
";
    for engine in [Engine::BuildKit, "buildah@1.39".parse().unwrap()] {
        let opts = Options {
            engines: vec![engine],
            ..Options::default()
        };
        let rep = lint::lint("Dockerfile", text, &opts).unwrap();
        assert!(rep.findings.is_empty(), "{engine}: {:?}", rep.findings);
        let rep = lint::lint(
            "Dockerfile",
            text,
            &Options {
                prune: true,
                ..opts
            },
        )
        .unwrap();
        let f = rep
            .findings
            .iter()
            .find(|f| f.rule.id == "MF007")
            .expect("MF007");
        assert_eq!(f.line, 3, "{engine}");
        assert!(
            rep.coverage
                .iter()
                .any(|c| c.setting.contains("with a prune"))
        );
    }
}

#[test]
fn explain_prints_the_counterexample_and_engines_lists_every_profile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), APT_SHARED).unwrap();
    let (rc, out, _) = mountfuzz(
        &["lint", "--engine", "buildkit", "--explain", "Dockerfile"],
        dir.path(),
    );
    assert_eq!(rc, 1);
    assert!(
        out.contains("step │") && out.contains("[1] build-2"),
        "{out}"
    );
    let (rc, out, _) = mountfuzz(&["engines"], dir.path());
    assert_eq!(rc, 0);
    for e in Engine::ALL {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{e}\t")) && l.len() > 30),
            "{e}: {out}"
        );
    }
    assert!(out.contains("unreleased"), "{out}");
}

#[test]
fn a_run_the_shell_reader_refuses_is_named_in_the_coverage_not_blamed_on_the_engine() {
    let text = "FROM alpine\nRUN --mount=type=cache,target=/c echo hi 6666666666> /c/x\n";
    let opts = Options {
        engines: vec![Engine::BuildKit],
        ..Options::default()
    };
    let rep = lint::lint("Dockerfile", text, &opts).unwrap();
    assert!(rep.findings.is_empty(), "{:?}", rep.findings);
    assert!(!rep.proved());
    let c = &rep.coverage[0];
    assert_eq!(c.verdict, "unsupported");
    assert!(
        c.detail.as_deref().unwrap().starts_with("Dockerfile:2:"),
        "{c:?}"
    );
}
