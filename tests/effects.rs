//! The shell (brush-parser) and the command effects: each command of a RUN, what it does to the
//! cache mounts, and how it is modelled. Every case here would come out differently if a rule
//! were missing: a dropped command, a failure that does not fail the RUN, a path that misses its
//! mount.

use std::collections::BTreeMap;

use mountfuzz::containerfile::Command;
use mountfuzz::effects::{Model, RunEffects, of_run, of_run_in};
use mountfuzz::mount::MountSpec;
use mountfuzz::scenario::CacheOp::{self, *};

fn fx_in(script: &str, mounts: &[&str], workdir: &str) -> RunEffects {
    let mounts: Vec<MountSpec> = mounts.iter().map(|t| MountSpec::cache(t)).collect();
    of_run(
        &Command::Shell(script.into()),
        &mounts,
        workdir,
        &BTreeMap::from([("CACHE".to_string(), "/c".to_string())]),
    )
    .unwrap_or_else(|e| panic!("{script}: {e}"))
}

fn ops(script: &str) -> Vec<CacheOp> {
    fx_in(script, &["/c"], "/").ops()
}

fn models(script: &str) -> Vec<String> {
    fx_in(script, &["/c"], "/")
        .commands
        .iter()
        .map(|c| c.model.name())
        .collect()
}

fn w(file: &str, data: &str) -> CacheOp {
    Write {
        mount: 0,
        file: file.into(),
        data: data.into(),
    }
}
/// A replace at once (a rename, one truncate, a new link).
fn rep(file: &str, data: &str) -> CacheOp {
    Replace {
        mount: 0,
        file: file.into(),
        data: data.into(),
    }
}
fn r(file: &str) -> CacheOp {
    Read {
        mount: 0,
        file: file.into(),
    }
}
fn look(file: &str, must_exist: bool) -> CacheOp {
    Stat {
        mount: 0,
        file: file.into(),
        must_exist,
    }
}
fn opaque(dir: &str, what: &str, writes: bool) -> CacheOp {
    Opaque {
        mount: 0,
        dir: dir.into(),
        what: what.into(),
        writes,
    }
}

#[test]
fn redirections_and_the_last_command_decide_failure() {
    // Only the last command of a list without `set -e` fails the RUN: the cat in the middle is
    // a look.
    assert_eq!(
        ops("echo a b > /c/f && cat /c/f; rm -rf /c/*"),
        vec![w("f", "a b"), look("f", false), Wipe { mount: 0 }]
    );
    assert_eq!(
        ops("set -e; echo a > /c/f; cat /c/f; true"),
        vec![w("f", "a"), r("f")]
    );
    assert_eq!(ops("cat /c/f || true"), vec![look("f", false)]);
    assert_eq!(ops("cat /c/f"), vec![r("f")]);
    assert_eq!(ops("cat < /c/f"), vec![r("f")]);
    assert_eq!(
        ops("echo -n x >> /c/log"),
        vec![Append {
            mount: 0,
            file: "log".into(),
            data: "x".into()
        }]
    );
    // A pipeline's earlier stages do not decide its status, unless pipefail.
    assert_eq!(
        ops("cat /c/a | tee /c/b"),
        vec![look("a", false), w("b", "(standard input of tee)")]
    );
    assert_eq!(
        ops("set -o pipefail; cat /c/a | tee -a /c/b"),
        vec![
            r("a"),
            Append {
                mount: 0,
                file: "b".into(),
                data: "(standard input of tee)".into()
            }
        ]
    );
}

#[test]
fn compound_commands() {
    assert_eq!(
        ops("if [ -f /c/done ]; then cat /c/done; else echo x > /c/done; fi"),
        vec![look("done", false), look("done", false), w("done", "x")]
    );
    assert_eq!(
        ops("for f in a b; do echo $f >> /c/log; done"),
        vec![
            Append {
                mount: 0,
                file: "log".into(),
                data: "a".into()
            },
            Append {
                mount: 0,
                file: "log".into(),
                data: "b".into()
            }
        ]
    );
    assert_eq!(ops("sh -c 'cat /c/x'"), vec![r("x")]);
    // `/bin/sh` has no `[[`: it is a command of that name, which may look at any file.
    assert!(matches!(
        ops("[[ -f /c/x ]] || true").as_slice(),
        [CacheOp::Opaque { writes: false, .. }]
    ));
    assert_eq!(ops("bash -ec \"cat $CACHE/x\""), vec![r("x")]);
    assert_eq!(ops("(cd /c && cat x)"), vec![r("x")]);
    assert_eq!(ops("{ cat /c/x; }"), vec![r("x")]);
    assert_eq!(ops("case $X in a) cat /c/x;; esac"), vec![look("x", false)]);
    assert_eq!(
        ops("echo \"$(cat /c/v)\" > /c/w"),
        vec![look("v", false), w("w", "\"$(cat /c/v)\"")],
        "the substitution runs first; the file written is known, its bytes only when it runs"
    );
}

#[test]
fn file_commands_are_precise() {
    assert_eq!(
        ops("touch /c/a && mkdir -p /c/d"),
        vec![
            Touch {
                mount: 0,
                file: "a".into()
            },
            Touch {
                mount: 0,
                file: "d".into()
            }
        ]
    );
    assert_eq!(
        ops("cp /src/x /c/x"),
        vec![w("x", "(copy of /src/x)")],
        "copy into a cache"
    );
    assert_eq!(ops("cp /c/x /out/x"), vec![r("x")], "copy out of a cache");
    // Within one mount a rename: the destination is replaced at once.
    assert_eq!(
        ops("mv /c/a /c/d/"),
        vec![
            r("a"),
            Replace {
                mount: 0,
                file: "d/a".into(),
                data: "(copy of /c/a)".into()
            },
            Remove {
                mount: 0,
                file: "a".into()
            }
        ]
    );
    assert_eq!(
        ops("rm /c/a"),
        vec![
            look("a", true),
            Remove {
                mount: 0,
                file: "a".into()
            }
        ],
        "rm without -f fails on a missing file"
    );
    assert_eq!(
        ops("rm -rf /c/sub"),
        vec![RemoveTree {
            mount: 0,
            dir: "sub".into()
        }]
    );
    assert_eq!(ops("ln -sf /opt/x /c/link"), vec![rep("link", "-> /opt/x")]);
    assert_eq!(ops("stat /c/a"), vec![look("a", true)]);
    assert_eq!(ops("chmod 644 /c/a"), vec![look("a", true)]);
    assert_eq!(ops("truncate -s 0 /c/a"), vec![rep("a", "(truncated)")]);
    assert_eq!(
        ops("sed -i s/a/b/ /c/conf"),
        vec![r("conf"), rep("conf", "(sed -i s/a/b/ /c/conf)")]
    );
    assert_eq!(
        ops("ls -la /c"),
        vec![opaque("", "ls -la /c", false)],
        "a listing reads every name below it"
    );
    assert_eq!(
        ops("find /c/tmp -delete"),
        vec![opaque("tmp", "find /c/tmp -delete", true)]
    );
    assert!(
        models("touch /c/a && cat /c/a")
            .iter()
            .all(|m| m == "precise")
    );
}

#[test]
fn what_is_not_modelled_precisely_is_opaque_and_named() {
    assert_eq!(
        ops("make -j4"),
        vec![opaque("", "make -j4", true)],
        "an unknown tool may use the cache without naming it"
    );
    assert_eq!(models("cargo build --release"), ["profile:cargo"]);
    assert_eq!(
        models("export PATH=$PNPM_HOME:$PATH && true"),
        ["no-cache-effect", "no-cache-effect"],
        "an assignment names no file, even with an unknown value"
    );
    assert_eq!(models("python3 -m pip install x"), ["profile:pip"]);
    assert_eq!(
        ops("rm -rf $UNKNOWN/x"),
        vec![opaque("", "rm -rf $UNKNOWN/x", true)],
        "a path known only at build time may be in any cache"
    );
    assert_eq!(
        ops("rm -f /c/*.tmp"),
        vec![opaque("", "rm -f /c/*.tmp", true)],
        "a pattern other than DIR/* is opaque"
    );
    assert_eq!(
        ops("rm -rf /c"),
        vec![opaque("", "rm -rf /c", true)],
        "the mount point itself: its contents go, then rm fails on the busy mount"
    );
}

#[test]
fn paths_outside_every_cache_are_counted_not_modelled() {
    let fx = fx_in(
        "rm -rf /var/lib/apt/lists/* && echo x > /etc/conf && true",
        &["/c"],
        "/",
    );
    assert!(fx.ops().is_empty());
    assert_eq!(fx.outside_paths, 2);
    assert!(fx.commands.iter().all(|c| c.model == Model::NoCacheEffect));
    // Relative paths go through WORKDIR and `cd`.
    let fx = fx_in("echo x > rel/f && cd /c && cat f", &["/c", "rel"], "/w");
    assert_eq!(
        fx.ops(),
        vec![
            Write {
                mount: 1,
                file: "f".into(),
                data: "x".into()
            },
            r("f")
        ]
    );
}

#[test]
fn exec_form_and_syntax_errors() {
    let mounts = vec![MountSpec::cache("/c")];
    let exec = Command::Exec(vec!["/bin/sh".into(), "-c".into(), "cat /c/f".into()]);
    assert_eq!(
        of_run(&exec, &mounts, "/", &BTreeMap::new()).unwrap().ops(),
        vec![r("f")]
    );
    let direct = Command::Exec(vec!["cat".into(), "/c/f".into()]);
    assert_eq!(
        of_run(&direct, &mounts, "/", &BTreeMap::new())
            .unwrap()
            .ops(),
        vec![r("f")]
    );
    let e = of_run(
        &Command::Shell("echo 'open".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("shell syntax"), "{e}");
    // A descriptor number past i32 (the parser crate panicked on it; a fuzz crash).
    let e = of_run(
        &Command::Shell("6666666666> /c/f".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("out of range"), "{e}");
    // The same after a here-document whose body holds a lone quote, which a quote-tracking
    // scan read as opening a string (a CI fuzz crash): the parser's own tokens decide.
    let e = of_run(
        &Command::Shell("cat <<EOF\nval'ue\nEOF\ncat 66666666666666666666<<A\nx\nA\n".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("file descriptor 66666666666666666666"), "{e}");
    // A here-document operator without a delimiter word: the parser crate's tokenizer never
    // ended on several (fuzz out-of-memory runs). Refused, by name.
    for bad in [
        "c <<\r d ",
        "c << \r ",
        "(a &b\nc <<-\r d ",
        "x $(echo<<- > bus s) ",
        "c << \"\" ",
        "c <<",
        "c <<-\t\t\0\0 d > f s) ",
    ] {
        let e = of_run(&Command::Shell(bad.into()), &mounts, "/", &BTreeMap::new()).unwrap_err();
        assert!(e.contains("without a delimiter word"), "{bad:?}: {e}");
    }
    // Two blanks before the delimiter inside `$(`: the tokenizer lost it (a fuzz
    // out-of-memory). Refused; at the top level, and a shift in `$((`, are fine.
    for bad in ["a$(x <<  b) ", "$(x <<-\t\tarpine& echo > bus s) "] {
        let e = of_run(&Command::Shell(bad.into()), &mounts, "/", &BTreeMap::new()).unwrap_err();
        assert!(e.contains("two or more blanks"), "{bad:?}: {e}");
    }
    for ok in ["cat <<  EOF > /c/f\nx\nEOF\n", "echo $((1 <<  2)) > /c/f"] {
        of_run(&Command::Shell(ok.into()), &mounts, "/", &BTreeMap::new()).unwrap();
    }
    // A here-document inside an unclosed `${`: the parser crate's tokenizer panicked (a fuzz
    // crash). Refused, by name; `${#x}` and `$((1<<2))` after a closed one are fine.
    let e = of_run(
        &Command::Shell("echo > ${CAp <<EOF /etc/x} \\\n echo\nEOF".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("inside an unclosed"), "{e}");
    let e = of_run(
        &Command::Shell("cat <<\"B\" > \"$((x>) y;\nz\nB\n".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("left open"), "{e}");
    // A `}` closes a `${`, not a `$(`: here the `$(` stays open (a fuzz crash, session 12).
    let e = of_run(
        &Command::Shell("<<\"B\" $(${[}}\nB".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("left open"), "{e}");
    of_run(
        &Command::Shell("cat <<EOF > /c/f $(echo ${x:-}) }\nbody\nEOF\n".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap();
    of_run(
        &Command::Shell("x=$(cat <<EOF\nbody\nEOF\n)\necho \"$x\" > /c/f".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap();
    of_run(
        &Command::Shell("echo ${#x} $((1<<2)) > /c/f".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap();
    // An open `[` before several array expansions: the parser crate took exponential time on
    // it (a fuzz timeout). Refused, by name; closed subscripts and bracket tests are fine.
    let e = of_run(
        &Command::Shell("H[a${A[T}${A[T}${A[T}${A[T}".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(e.contains("array expansions"), "{e}");
    for ok in [
        "echo ${a[${i}]} > /c/f",
        "[ \"${a[1]}\" = \"${b[2]}\" ] || [ -n \"${c[3]}${d[4]}${e[5]}\" ]",
    ] {
        of_run(&Command::Shell(ok.into()), &mounts, "/", &BTreeMap::new()).unwrap();
    }
    // A CR elsewhere is an ordinary character; here-strings and shifts are no here-documents.
    for ok in [
        "echo a\r b > /c/f",
        "echo $((1<<2)) > /c/f",
        "cat <<-'EOF' > /c/f\n\tx\nEOF\n",
    ] {
        of_run(&Command::Shell(ok.into()), &mounts, "/", &BTreeMap::new()).unwrap();
    }
    // Digits in quotes, or apart from the operator, are words, not descriptors.
    for ok in [
        "echo '66666666666666666666>' > /c/f",
        "echo 66666666666666666666 > /c/f",
    ] {
        of_run(&Command::Shell(ok.into()), &mounts, "/", &BTreeMap::new()).unwrap();
    }
    // A directory-stack tilde whose number overflows (the word parser panicked on it) is a
    // word known only when the build runs.
    let fx = of_run(
        &Command::Shell("cp ~+99999999999999999999999/x /c/f; ls ~99999999999999999999999".into()),
        &mounts,
        "/",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(fx.commands.len(), 2, "{fx:?}");
}

/// Quotes group words; `;` and `&&` split commands only outside quotes.
#[test]
fn quoting() {
    assert_eq!(
        ops("echo x > '/c/a;b'&&cat /c/a;b"),
        vec![w("a;b", "x"), look("a", false), opaque("", "b", true)],
        "`b` is a command of its own, unknown, so opaque"
    );
    assert_eq!(ops("echo 'a && b' > /c/f"), vec![w("f", "a && b")]);
}

/// `SHELL` decides the shell: bash with pipefail makes a failing first stage fail the RUN; a
/// shell that is no POSIX shell runs the script as one opaque command.
#[test]
fn the_dockerfile_shell_decides() {
    let mounts = vec![MountSpec::cache("/c")];
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let run = |shell: &[String], script: &str| {
        of_run_in(
            &Command::Shell(script.into()),
            shell,
            &mounts,
            "/",
            &BTreeMap::new(),
        )
        .unwrap()
    };
    let bash = argv(&["/bin/bash", "-o", "pipefail", "-c"]);
    assert_eq!(
        run(&bash, "cat /c/a | wc -l").ops(),
        vec![r("a")],
        "pipefail: the cat decides"
    );
    assert_eq!(
        run(&argv(&["/bin/sh", "-c"]), "cat /c/a | wc -l").ops(),
        vec![look("a", false)]
    );
    assert_eq!(
        run(&bash, "[[ -f /c/a ]] && cat /c/a").ops().len(),
        2,
        "bash syntax parses under SHELL bash: the test, then the read"
    );
    let ps = run(&argv(&["powershell", "-command"]), "Get-Content C:/c/a");
    assert_eq!(ps.commands[0].model, Model::Opaque);
}
