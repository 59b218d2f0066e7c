//! MF010 in shell and bats scripts: a build kept apart with `TMPDIR=` that goes to a podman
//! server (`podman-remote`, `podman --remote`/`-r`, `--url`, `--connection`, or
//! `CONTAINER_HOST`/`CONTAINER_CONNECTION` set), whose process never sees that TMPDIR
//! (podman#25414; the model's remote topology, checked on real podman 4.3 in `tests/real_*.rs`).

use std::collections::BTreeMap;

use super::{BadInput, FileReport, Finding, Options, rules};
use crate::engine::Engine;
use crate::shell;

/// Whether `words` (after assignments) is a build sent to a podman server.
fn remote_build(words: &[String], remote_env: bool) -> bool {
    let Some(cmd) = words.first() else {
        return false;
    };
    let base = cmd.rsplit('/').next().unwrap_or(cmd);
    let builds = words
        .iter()
        .skip(1)
        .any(|w| w == "build" || w == "bud" || w == "buildx");
    if !builds {
        return false;
    }
    match base {
        "podman-remote" => true,
        "podman" => {
            remote_env
                || words.iter().any(|w| {
                    w == "--remote"
                        || w == "-r"
                        || w.starts_with("--url")
                        || w.starts_with("--connection")
                        || w == "-c"
                })
        }
        _ => false,
    }
}

/// Lints a script for MF010.
pub fn check(name: &str, text: &str, opts: &Options) -> Result<FileReport, BadInput> {
    // bats test headers are not shell: read each `@test "…" {` as a function.
    let body: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("@test ") && l.trim_end().ends_with('{') {
                "bats_test() {".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cmds = shell::commands(&body, &BTreeMap::new()).map_err(|e| BadInput {
        file: name.to_string(),
        line: None,
        problem: format!("not a shell script this reader understands: {}", e.0),
    })?;
    let mut report = FileReport::new(name);
    let mut tmpdir_exported = false;
    let mut remote_env = false;
    let buildah: Vec<Engine> = opts
        .engines
        .iter()
        .copied()
        .filter(|e| matches!(e, Engine::Buildah(_)))
        .collect();
    let mut seen_lines = Vec::new();
    for c in &cmds {
        let words: Vec<String> = c.words.iter().map(|w| w.text().to_string()).collect();
        let first = words.first().map(String::as_str).unwrap_or("");
        if first == "export" || first == "declare" || first == "local" {
            for w in &words[1..] {
                tmpdir_exported |= w.starts_with("TMPDIR=");
                remote_env |=
                    w.starts_with("CONTAINER_HOST=") || w.starts_with("CONTAINER_CONNECTION=");
            }
            continue;
        }
        // `TMPDIR=… cmd`: the assignment is in the command's text before its first word.
        let prefix = c
            .text
            .split_whitespace()
            .take_while(|w| w.contains('=') && !w.starts_with('-'))
            .collect::<Vec<_>>();
        let tmp_prefix = prefix.iter().any(|w| w.starts_with("TMPDIR="));
        let host_prefix = prefix
            .iter()
            .any(|w| w.starts_with("CONTAINER_HOST=") || w.starts_with("CONTAINER_CONNECTION="));
        if words.is_empty() && !prefix.is_empty() {
            // Plain assignments: `TMPDIR=…` alone sets a shell variable, exported or not.
            tmpdir_exported |= tmp_prefix;
            remote_env |= host_prefix;
            continue;
        }
        // Wrappers that run their arguments (bats `run`, `env`, `sudo`, `timeout N`).
        let mut w = &words[..];
        while let Some(h) = w.first() {
            match h.as_str() {
                "run" | "env" | "sudo" | "command" | "exec" => w = &w[1..],
                "timeout" => w = w.get(2..).unwrap_or(&[]),
                s if s.contains('=') => w = &w[1..],
                _ => break,
            }
        }
        let env_tmp = tmp_prefix || words.iter().any(|x| x.starts_with("TMPDIR="));
        if (env_tmp || tmpdir_exported) && remote_build(w, remote_env || host_prefix) {
            let needle = w.first().cloned().unwrap_or_default();
            let line = text
                .lines()
                .position(|l| l.contains(&needle) && l.contains("build"))
                .map_or(1, |i| i + 1);
            // A loop's body is read once per iteration: one finding per line.
            if seen_lines.contains(&line) {
                continue;
            }
            seen_lines.push(line);
            if buildah.is_empty() {
                continue;
            }
            report.findings.push(Finding {
                rule: rules::rule("MF010").expect("MF010"),
                file: name.to_string(),
                line,
                mount_line: None,
                engines: buildah.clone(),
                message: format!(
                    "`{}` sets TMPDIR for a build that runs in a podman server: the server keeps caches under its own TMPDIR, so builds meant to be apart share them",
                    c.text.lines().next().unwrap_or("")
                ),
                explain: None,
            });
        }
    }
    Ok(report)
}
