//! The Dockerfile lexer (`containerfile::lex`) and RUN reading against BuildKit's own parser test
//! files (`frontend/dockerfile/parser/testfiles/*/{Dockerfile,result}`). Those files are
//! BuildKit's, so this repository does not hold them: the test reads a BuildKit checkout's
//! testfiles dir from `MOUNTFUZZ_BUILDKIT_TESTFILES` and skips without it. For each case:
//! - the instruction keywords, in order, are BuildKit's (continuations, comments, empty lines,
//!   the escape directive, CRLF);
//! - each RUN the product reads (`containerfile::read`) has BuildKit's command: the shell form
//!   as one string, the exec form as its list (invalid JSON read as the shell form).
//!
//! A Dockerfile the product refuses agrees only when real BuildKit (`ci/engines.sh up`) fails to
//! build the refused instruction too. It prints `buildkit parser: N of M cases agree` and fails
//! on any case that differs.

use std::path::Path;

use mountfuzz::containerfile::{Command, lex};

/// One node of BuildKit's `result` dump: `(keyword [flags] "arg"… (child))`.
#[derive(Debug, PartialEq)]
struct Node {
    keyword: String,
    flags: Vec<String>,
    args: Vec<String>,
    children: Vec<Node>,
}

/// A Go-quoted string at the start of `s` (after its `"`): the string and what follows.
fn go_string(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => {
                let (_, e) = it.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'a' => out.push('\u{7}'),
                    'v' => out.push('\u{b}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String =
                            (0..n).filter_map(|_| it.next().map(|(_, c)| c)).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// Parses one node at the start of `s` (which starts with `(`); the node and what follows.
fn node(s: &str) -> Option<(Node, &str)> {
    let mut s = s.strip_prefix('(')?;
    let end = s.find([' ', ')'])?;
    let mut n = Node {
        keyword: s[..end].to_string(),
        flags: Vec::new(),
        args: Vec::new(),
        children: Vec::new(),
    };
    s = &s[end..];
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix(')') {
            return Some((n, rest));
        } else if let Some(rest) = s.strip_prefix('"') {
            let (v, rest) = go_string(rest)?;
            n.args.push(v);
            s = rest;
        } else if let Some(mut rest) = s.strip_prefix('[') {
            loop {
                rest = rest.trim_start();
                if let Some(r) = rest.strip_prefix(']') {
                    rest = r;
                    break;
                }
                let (v, r) = go_string(rest.strip_prefix('"')?)?;
                n.flags.push(v);
                rest = r;
            }
            s = rest;
        } else if s.starts_with('(') {
            let (child, rest) = node(s)?;
            n.children.push(child);
            s = rest;
        } else {
            return None;
        }
    }
}

/// Whether real BuildKit (Docker 26.1 from `ci/engines.sh up`) fails to build `dockerfile`.
fn buildkit_refuses(dockerfile: &str) -> Result<bool, String> {
    let i = mountfuzz::real::chroot::Installation::find()?;
    let d = tempfile::tempdir_in(&i.work).map_err(|e| e.to_string())?;
    std::fs::write(d.path().join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    let mut c = i.command("docker", &[]);
    c.arg("-H")
        .arg(format!("unix://{}", i.inside(&i.docker_sock).display()))
        .args(["buildx", "build", "--progress", "plain", "-f"])
        .arg(d.path().join("Dockerfile"))
        .arg(d.path());
    let out = mountfuzz::real::run_bounded(&mut c, std::time::Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    if out.timed_out {
        return Err("the build did not end".into());
    }
    Ok(out.code != Some(0))
}

/// Compares one case: `Ok(true)` when every RUN was compared too; `Ok(false)` when the build is
/// refused by both, so only the parse was compared: an instruction before the first `FROM`
/// (BuildKit's dispatcher says "no build stage in current context", `instructions/commands.go`),
/// or an instruction the product refuses that real BuildKit fails to build too; `Err` says how
/// it differs.
fn case(dir: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).map_err(|e| e.to_string())?;
    let result = std::fs::read_to_string(dir.join("result")).map_err(|e| e.to_string())?;
    let want: Vec<Node> = result
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            node(l)
                .map(|(n, _)| n)
                .ok_or(format!("unreadable result line {l:?}"))
        })
        .collect::<Result<_, _>>()?;
    let (_, got) = lex::instructions(&text).map_err(|e| format!("ours refused: {e:?}"))?;
    let got_kw: Vec<String> = got.iter().map(|i| i.keyword.to_lowercase()).collect();
    let want_kw: Vec<String> = want.iter().map(|n| n.keyword.clone()).collect();
    if got_kw != want_kw {
        return Err(format!("keywords: ours {got_kw:?}, BuildKit's {want_kw:?}"));
    }
    // Each RUN as the product reads it (`containerfile::read`, BuildKit's dialect): the shell
    // form as one string, the exec form as its list. A RUN outside the target's stages is not
    // read, and not compared.
    let read = mountfuzz::containerfile::read(
        &text,
        mountfuzz::mount::Dialect::BuildKit,
        &Default::default(),
        None,
    );
    let read = match read {
        Err(e)
            if e.problem.ends_with("before the first FROM")
                && want_kw.first().is_some_and(|k| k != "from" && k != "arg") =>
        {
            return Ok(false);
        }
        Err(e) => {
            // A refusal agrees only when BuildKit's build refuses that instruction too: run it on
            // the real daemon (`ci/engines.sh up`), after a FROM.
            let instr = got
                .iter()
                .rev()
                .find(|i| i.line <= e.line)
                .ok_or("no instruction")?;
            let probe = format!("FROM scratch\n{} {}\n", instr.keyword, instr.rest);
            return match buildkit_refuses(&probe) {
                Ok(true) => Ok(false),
                Ok(false) => Err(format!(
                    "ours refused line {} ({}), real BuildKit builds {probe:?}",
                    e.line, e.problem
                )),
                Err(why) => Err(format!(
                    "ours refused line {} ({}); not checked: {why}",
                    e.line, e.problem
                )),
            };
        }
        Ok(r) => r,
    };
    for (i, n) in got.iter().zip(&want) {
        if i.keyword != "RUN" {
            continue;
        }
        let Some(run) = read.runs.iter().find(|r| r.line == i.line) else {
            continue;
        };
        let ours = match &run.command {
            Command::Shell(s) => vec![s.trim().to_string()],
            Command::Exec(v) => v.clone(),
        };
        if ours != n.args {
            return Err(format!(
                "line {}: RUN ours {ours:?}, BuildKit's {:?}",
                i.line, n.args
            ));
        }
    }
    Ok(true)
}

#[test]
fn the_lexer_reads_buildkits_parser_testfiles_as_buildkit_does() {
    let Some(root) = std::env::var_os("MOUNTFUZZ_BUILDKIT_TESTFILES") else {
        eprintln!(
            "SKIP: set MOUNTFUZZ_BUILDKIT_TESTFILES to a BuildKit checkout's frontend/dockerfile/parser/testfiles"
        );
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("result").is_file())
        .collect();
    dirs.sort();
    let results: Vec<_> = dirs.iter().map(|d| (d, case(d))).collect();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(d, r)| r.as_ref().err().map(|e| format!("{}: {e}", d.display())))
        .collect();
    let parse_only = results.iter().filter(|(_, r)| r == &Ok(false)).count();
    println!(
        "buildkit parser: {} of {} cases agree ({parse_only} of them parse only: builds both refuse)",
        dirs.len() - failures.len(),
        dirs.len()
    );
    assert!(
        !dirs.is_empty(),
        "no testfiles under {}",
        Path::new(&root).display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_result_reader_reads_go_quoting_and_nesting() {
    let (n, _) =
        node(r#"(onbuild (run ["--mount=type=cache,target=/c"] "echo \"a\" \\ \x00"))"#).unwrap();
    assert_eq!(n.keyword, "onbuild");
    assert_eq!(n.children[0].flags, ["--mount=type=cache,target=/c"]);
    assert_eq!(n.children[0].args, ["echo \"a\" \\ \u{0}"]);
}
