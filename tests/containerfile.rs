//! Containerfile reading: continuations, comments, forms, ARG/ENV substitution, line-numbered errors.

use std::collections::BTreeMap;

use mountfuzz::containerfile::{Command, parse};
use mountfuzz::mount::{Dialect, Sharing};

const FILE: &str = r#"# syntax=docker/dockerfile:1
ARG TAG=global
FROM scratch
ARG TAG
ARG KIND=locked
WORKDIR /w
RUN --mount=type=cache,target=/test,id=lk-${TAG},sharing=$KIND \
    # a comment inside the continuation
    --mount=type=cache,target=rel \
    sh -c 'echo hello > /test/world'

RUN ["/bin/busybox", "cat", "/test/world"]
ENV SUB=/deep
WORKDIR sub
RUN --mount=type=cache,target=${SUB:-/none}/c,id=${UNSET:-dflt} true
"#;

#[test]
fn reads_runs_with_mounts_and_substitution() {
    let runs = parse(FILE, Dialect::Buildah, &BTreeMap::new()).unwrap();
    assert_eq!(runs.len(), 3);
    let r = &runs[0];
    assert_eq!(r.line, 7);
    assert_eq!(r.workdir, "/w");
    assert_eq!(r.mounts.len(), 2);
    assert_eq!(
        r.mounts[0].id.as_deref(),
        Some("lk-global"),
        "global ARG redeclared"
    );
    assert_eq!(r.mounts[0].sharing, Sharing::Locked);
    assert_eq!(r.mounts[1].target, "rel");
    assert_eq!(
        r.command,
        Command::Shell("sh -c 'echo hello > /test/world'".into())
    );
    assert_eq!(
        runs[1].command,
        Command::Exec(vec![
            "/bin/busybox".into(),
            "cat".into(),
            "/test/world".into()
        ])
    );
    assert_eq!(runs[2].workdir, "/w/sub");
    assert_eq!(runs[2].mounts[0].target, "/deep/c");
    assert_eq!(runs[2].mounts[0].id.as_deref(), Some("dflt"));
}

#[test]
fn build_args_override_defaults() {
    let args = BTreeMap::from([("TAG".to_string(), "t7".to_string())]);
    let runs = parse(FILE, Dialect::Buildah, &args).unwrap();
    assert_eq!(runs[0].mounts[0].id.as_deref(), Some("lk-t7"));
}

#[test]
fn global_arg_not_redeclared_is_invisible_in_run() {
    let text = "ARG X=1\nFROM scratch\nRUN --mount=type=cache,target=/c,id=a${X}b true\n";
    let runs = parse(text, Dialect::Buildah, &BTreeMap::new()).unwrap();
    assert_eq!(runs[0].mounts[0].id.as_deref(), Some("ab"));
}

fn fails(text: &str, line: usize, has: &str) {
    let e = parse(text, Dialect::Buildah, &BTreeMap::new()).expect_err(text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.problem.contains(has), "{e} lacks {has:?}");
    assert!(e.to_string().starts_with(&format!("line {line}:")));
}

#[test]
fn errors_carry_line_numbers() {
    fails("FROM scratch\nFROB x\n", 2, "unknown instruction");
    fails("RUN true\n", 1, "before the first FROM");
    fails(
        "FROM scratch\n\nRUN --mount=type=cache,target=/c,sharing=weird true\n",
        3,
        "sharing=weird",
    );
    fails(
        "FROM scratch\nRUN --mount=type=cache,target=/c\n",
        2,
        "no command",
    );
    fails("FROM scratch\nRUN --frob=1 true\n", 2, "unknown RUN flag");
    fails(
        "FROM scratch\nRUN --mount=type=cache,target=${X true\n",
        2,
        "unterminated",
    );
    fails("FROM scratch\nARG 9x=1\n", 2, "bad variable name");
    fails("FROM scratch\nENV K\n", 2, "needs a value");
    fails("FROM scratch\nWORKDIR\n", 2, "needs a path");
    fails("FROM\n", 1, "needs an image");
    fails("FROM scratch\nARG A=\"x\n", 2, "unterminated");
}

#[test]
fn dialect_decides_mount_errors() {
    let text = "FROM scratch\nRUN --mount=type=cache,target=/c,sharing=private true\n";
    assert!(parse(text, Dialect::BuildKit, &BTreeMap::new()).is_ok());
    assert!(parse(text, Dialect::Buildah, &BTreeMap::new()).is_err());
}

proptest::proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/containerfile.txt", 256))]

    #[test]
    fn never_panics(text in "(FROM x\n|RUN |ARG A=1\n|--mount=|type=cache,target=/c|\\$\\{A\\}|\\\\\n|#c\n| |\\[\"a\"\\]|\n){0,20}") {
        let _ = parse(&text, Dialect::BuildKit, &BTreeMap::new());
        let _ = parse(&text, Dialect::Buildah128, &BTreeMap::new());
    }
}

#[test]
fn absolute_workdir_replaces_the_previous_one() {
    let text = "FROM scratch\nWORKDIR /w\nWORKDIR /abs\nWORKDIR rel\nRUN --mount=type=cache,target=/c true\n";
    let runs = parse(text, Dialect::Buildah, &BTreeMap::new()).unwrap();
    assert_eq!(runs[0].workdir, "/abs/rel");
}
