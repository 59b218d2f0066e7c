//! The Dockerfile frontend on the constructs real Dockerfiles use: parser directives, BOM and
//! CRLF, the escape directive, here-documents, legacy ENV, BuildKit's variable modifiers, the
//! stage graph with its inheritance and target, ONBUILD, and BuildKit's CSV mount values.

use std::collections::BTreeMap;

use mountfuzz::containerfile::{Command, read};
use mountfuzz::mount::{Dialect, Sharing};

fn runs(text: &str) -> Vec<mountfuzz::containerfile::Run> {
    read(text, Dialect::BuildKit, &BTreeMap::new(), None)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .runs
}

fn shell(r: &mountfuzz::containerfile::Run) -> &str {
    match &r.command {
        Command::Shell(s) => s,
        Command::Exec(_) => panic!("exec form"),
    }
}

#[test]
fn directives_bom_crlf_and_escape() {
    let text = "\u{feff}# syntax=docker/dockerfile:1.7\r\n# escape=`\r\n# check=skip=all\r\nFROM x\r\nRUN --mount=type=cache,target=/c `\r\n    echo a > /c/f\r\n";
    let cf = read(text, Dialect::BuildKit, &BTreeMap::new(), None).unwrap();
    assert_eq!(
        cf.directives.syntax.as_deref(),
        Some("docker/dockerfile:1.7")
    );
    assert_eq!(cf.directives.escape, '`');
    assert_eq!(cf.directives.check.as_deref(), Some("skip=all"));
    assert_eq!(cf.runs.len(), 1);
    assert_eq!(cf.runs[0].line, 5);
    assert_eq!(shell(&cf.runs[0]).trim(), "echo a > /c/f");
    // A directive after the first other line is a comment.
    let late = "FROM x\n# escape=`\nRUN --mount=type=cache,target=/c \\\n true\n";
    let cf = read(late, Dialect::BuildKit, &BTreeMap::new(), None).unwrap();
    assert_eq!(cf.directives.escape, '\\');
    assert_eq!(shell(&cf.runs[0]).trim(), "true");
    let bad = "# escape=x\nFROM x\n";
    let e = read(bad, Dialect::BuildKit, &BTreeMap::new(), None).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.problem.contains("escape"), "{e}");
}

#[test]
fn heredocs() {
    let text = "FROM x\n\
RUN --mount=type=cache,target=/c <<EOF\n\
set -e\n\
echo a > /c/f\n\
EOF\n\
RUN --mount=type=cache,target=/c <<-'END' cat > /c/g\n\
\tliteral $X\n\
\tEND\n\
RUN --mount=type=cache,target=/c cat <<A > /c/a && cat <<\"B\" > /c/b\n\
one\n\
A\n\
two\n\
B\n\
COPY <<EOF /etc/conf\n\
RUN this is file content, not an instruction\n\
EOF\n\
RUN --mount=type=cache,target=/c <<EOF\n\
#!/usr/bin/env python3\n\
open('/c/p','w').write('x')\n\
EOF\n";
    let r = runs(text);
    assert_eq!(r.len(), 4, "the COPY body is not read as a RUN");
    assert_eq!(shell(&r[0]), "set -e\necho a > /c/f\n");
    assert_eq!(r[1].line, 6);
    assert!(
        shell(&r[1]).contains("literal $X\nEND\n"),
        "{:?}",
        shell(&r[1])
    );
    assert!(shell(&r[2]).contains("one\nA\ntwo\nB\n"));
    assert_eq!(r[3].line, 17);
    assert!(
        matches!(&r[3].command, Command::Exec(a) if a[0] == "/usr/bin/env" && a[1] == "python3"),
        "a #! script runs under its interpreter: {:?}",
        r[3].command
    );
    let shift = "FROM x\nRUN --mount=type=cache,target=/c echo $((1<<2)) > /c/n\nRUN true\n";
    assert_eq!(
        runs(shift).len(),
        2,
        "a shift in arithmetic opens no here-document"
    );
    let open = "FROM x\nRUN <<EOF\ntrue\n";
    let e = read(open, Dialect::BuildKit, &BTreeMap::new(), None).unwrap_err();
    assert!(e.problem.contains("no closing"), "{e}");
}

#[test]
fn variables_as_buildkit_expands_them() {
    let text = "FROM x\n\
ENV CARGO_HOME /usr/local/cargo\n\
ENV A=1 B=\"two words\"\n\
ARG V=/usr/local/cargo/registry\n\
RUN --mount=type=cache,target=${CARGO_HOME}/git,id=${V##*/}-${B//o/0} true\n\
RUN --mount=type=cache,target=${V%/*}/x,id=${NOPE:-dflt}${A:+-a} true\n";
    let r = runs(text);
    assert_eq!(
        r[0].mounts[0].target, "/usr/local/cargo/git",
        "legacy ENV K V"
    );
    assert_eq!(r[0].mounts[0].id.as_deref(), Some("registry-tw0 w0rds"));
    assert_eq!(r[1].mounts[0].target, "/usr/local/cargo/x");
    assert_eq!(r[1].mounts[0].id.as_deref(), Some("dflt-a"));
    assert_eq!(r[0].env.get("B").map(String::as_str), Some("two words"));
    assert!(r[1].unset.contains(&"NOPE".to_string()));
}

#[test]
fn csv_mount_values_and_from_is_not_expanded() {
    let text = "FROM x AS base\nARG S=base\n\
RUN --mount=type=cache,\"target=/a,b\",id=x,sharing=locked true\n\
FROM x\nARG S=base\n\
RUN --mount=type=cache,target=/c,from=$S true\n";
    let cf = read(text, Dialect::BuildKit, &BTreeMap::new(), None).unwrap();
    let r = &cf.runs;
    assert_eq!(
        r.len(),
        1,
        "only the last stage is built: it does not need base"
    );
    assert_eq!(
        r[0].mounts[0].from.as_deref(),
        Some("$S"),
        "from= is not expanded"
    );
    let cf = read(text, Dialect::BuildKit, &BTreeMap::new(), Some("base")).unwrap();
    assert_eq!(
        cf.runs[0].mounts[0].target, "/a,b",
        "a quoted CSV field keeps its comma"
    );
    assert_eq!(cf.runs[0].mounts[0].sharing, Sharing::Locked);
    assert!(read(text, Dialect::BuildKit, &BTreeMap::new(), Some("nope")).is_err());
}

#[test]
fn stage_graph_inheritance_target_and_onbuild() {
    let text = "ARG BASE=x\n\
FROM $BASE AS base\n\
ENV CACHE=/c\n\
WORKDIR /w\n\
ARG FLAG=on\n\
ONBUILD RUN --mount=type=cache,target=$CACHE echo trig > $CACHE/t\n\
FROM base AS child\n\
RUN --mount=type=cache,target=${CACHE}/x,id=$FLAG cat rel\n\
FROM x AS unused\n\
RUN --mount=type=cache,target=/u true\n\
FROM x AS other\n\
RUN --mount=type=cache,target=/o true\n\
FROM child\n\
COPY --from=other /o /o\n\
RUN --mount=type=cache,target=/z true\n";
    let cf = read(text, Dialect::BuildKit, &BTreeMap::new(), None).unwrap();
    let targets: Vec<&str> = cf
        .runs
        .iter()
        .map(|r| r.mounts[0].target.as_str())
        .collect();
    assert_eq!(
        targets,
        ["/c", "/c/x", "/o", "/z"],
        "the ONBUILD trigger runs in child; unused is not built"
    );
    assert_eq!(cf.runs[1].workdir, "/w", "WORKDIR inherited");
    assert_eq!(
        cf.runs[1].mounts[0].id.as_deref(),
        Some("on"),
        "ARG inherited"
    );
    assert!(!cf.built[2]);
    // child and other need nothing of each other, and both have RUNs.
    assert_eq!(cf.parallel_stages(), vec![(1, 3)]);
}

#[test]
fn shell_instruction() {
    let r = runs(
        "FROM x\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN --mount=type=cache,target=/c true\n",
    );
    assert_eq!(r[0].shell, ["/bin/bash", "-o", "pipefail", "-c"]);
    let e = read(
        "FROM x\nSHELL /bin/bash -c\n",
        Dialect::BuildKit,
        &BTreeMap::new(),
        None,
    )
    .unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.problem.contains("JSON array"), "{e}");
}

/// Three readings BuildKit's parser test files (`tests/buildkit_parser.rs`) showed us wrong, each
/// checked here without them.
#[test]
fn what_buildkits_parser_testfiles_taught() {
    // `\\` at a line's end is an escaped backslash, not a continuation (testfiles/trailing-backslash).
    let rs = runs("FROM scratch\nENV C trailing\\\\\nENV D next\nRUN echo \"$C\" \"$D\"\n");
    assert_eq!(rs[0].env["C"], "trailing\\");
    assert_eq!(rs[0].env["D"], "next");
    // Inside double quotes the escape character escapes `"` (testfiles/env).
    let rs = runs("FROM scratch\nENV name=\"a\\\"b\" other='c\\d'\nRUN echo\n");
    assert_eq!(rs[0].env["name"], "a\"b");
    assert_eq!(rs[0].env["other"], "c\\d");
    // COPY and ADD split at white space only: a lone quote is just a character (testfiles/escapes).
    let rs = runs("FROM scratch\nADD \\conf\\\\\" /.znc\nRUN echo done\n");
    assert_eq!(shell(&rs[0]), "echo done");
}
