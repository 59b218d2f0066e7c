//! What a RUN's command does to its cache mounts, read from the small shell vocabulary the cache
//! tests use (`echo X > f`, `echo X >> f`, `cat f`, `rm -f f`, `rm -rf dir/*`, joined by `&&` or
//! `;`), and the reverse: a Containerfile that performs given operations.

use crate::containerfile::{Command, split_words};
use crate::engine::path::{is_within, resolve};
use crate::mount::{Dialect, MountSpec, display};

use super::{Build, CacheOp};

/// The cache operations of `command`, against `mounts` (targets resolved against `workdir`).
/// Commands that name no cache path are ignored; one that names a cache path in a way this
/// vocabulary does not cover is an error, so nothing the workload does is silently lost.
pub fn ops(command: &Command, mounts: &[MountSpec], workdir: &str) -> Result<Vec<CacheOp>, String> {
    let script = match command {
        Command::Shell(s) => s.clone(),
        Command::Exec(args) => {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match args.as_slice() {
                [sh, "-c", script] if sh.ends_with("sh") => script.to_string(),
                [bb, rest @ ..] if bb.ends_with("busybox") => rest.join(" "),
                _ => args.join(" "),
            }
        }
    };
    let cmds = commands(&script)?;
    let targets: Vec<String> = mounts.iter().map(|m| resolve(workdir, &m.target)).collect();
    let locate = |p: &str| -> Option<(usize, String)> {
        let abs = resolve(workdir, p);
        targets
            .iter()
            .enumerate()
            .filter(|(_, t)| is_within(&abs, t))
            .max_by_key(|(_, t)| t.len())
            .map(|(i, t)| (i, abs[t.len()..].trim_start_matches('/').to_string()))
    };
    let mut out = Vec::new();
    for c in cmds.iter().filter(|c| !c.is_empty()) {
        let c: Vec<&str> = c.iter().map(String::as_str).collect();
        let touches = c.iter().skip(1).any(|w| locate(w).is_some()); // the command name is no path
        let file_in = |p: &str| -> Result<(usize, String), String> {
            match locate(p) {
                Some((m, f)) if !f.is_empty() && !f.contains('*') => Ok((m, f)),
                _ => Err(format!("{p:?} is not a file inside a cache mount")),
            }
        };
        match c.as_slice() {
            ["echo", data @ .., op @ (">" | ">>"), path] => {
                let (mount, file) = file_in(path)?;
                let data = data.join(" ");
                out.push(if *op == ">" {
                    CacheOp::Write { mount, file, data }
                } else {
                    CacheOp::Append { mount, file, data }
                });
            }
            ["cat", path] => {
                let (mount, file) = file_in(path)?;
                out.push(CacheOp::Read { mount, file });
            }
            ["rm", flags, path] if flags.starts_with('-') => {
                let abs = resolve(workdir, path);
                let wiped = path
                    .strip_suffix("/*")
                    .and_then(|dir| targets.iter().position(|t| *t == resolve(workdir, dir)));
                match wiped {
                    Some(mount) => out.push(CacheOp::Wipe { mount }),
                    _ if targets.contains(&abs) => {
                        return Err(format!(
                            "`rm {flags} {path}` removes the mount point itself; write `{path}/*`"
                        ));
                    }
                    _ => {
                        let (mount, file) = file_in(path)?;
                        out.push(CacheOp::Remove { mount, file });
                    }
                }
            }
            _ if touches => {
                return Err(format!(
                    "`{}` uses a cache path in a way mountfuzz does not model (it knows echo > / >>, cat, rm)",
                    c.join(" ")
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The commands of a script: words as [`split_words`] reads them, with the commands split at every
/// `;` and `&&` outside quotes (a quoted `;` stays in its word).
fn commands(script: &str) -> Result<Vec<Vec<String>>, String> {
    let mut cmds: Vec<Vec<String>> = vec![Vec::new()];
    let mut piece = String::new();
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        let split = match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                false
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                false
            }
            (None, ';') => true,
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                true
            }
            _ => false,
        };
        if split {
            cmds.last_mut()
                .expect("never empty")
                .extend(split_words(&piece)?);
            piece.clear();
            cmds.push(Vec::new());
        } else {
            piece.push(c);
        }
    }
    cmds.last_mut()
        .expect("never empty")
        .extend(split_words(&piece)?);
    Ok(cmds)
}

/// `s` as one shell word that [`split_words`] reads back exactly: bare when safe, else in
/// single-quoted segments with each `'` written as `"'"`.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            out.push_str("\"'\"");
        }
        if !part.is_empty() {
            out.push_str(&format!("'{part}'"));
        }
    }
    if out.is_empty() {
        "''".to_string()
    } else {
        out
    }
}

/// A Containerfile whose RUNs perform `build`'s operations (what `to_toml` and `import` print).
pub fn containerfile_text(build: &Build, dialect: Dialect) -> String {
    let mut text = String::from("FROM scratch\n");
    let mut workdir = "/".to_string();
    for r in &build.runs {
        if r.workdir != workdir {
            // A trailing "/" keeps a last component that ends in white space (lines are trimmed).
            let slash = if r.workdir.ends_with(char::is_whitespace) {
                "/"
            } else {
                ""
            };
            text.push_str(&format!(
                "WORKDIR {}{slash}\n",
                r.workdir.replace('$', "\\$")
            ));
            workdir = r.workdir.clone();
        }
        let path = |m: usize, f: &str| {
            quote(&format!(
                "{}/{}",
                r.mounts[m].target.trim_end_matches('/'),
                f
            ))
        };
        let cmds: Vec<String> = r
            .ops
            .iter()
            .map(|op| match op {
                CacheOp::Write { mount, file, data } => {
                    format!("echo {} > {}", quote(data), path(*mount, file))
                }
                CacheOp::Append { mount, file, data } => {
                    format!("echo {} >> {}", quote(data), path(*mount, file))
                }
                CacheOp::Read { mount, file } => format!("cat {}", path(*mount, file)),
                CacheOp::Remove { mount, file } => format!("rm -f {}", path(*mount, file)),
                CacheOp::Wipe { mount } => {
                    format!(
                        "rm -rf {}/*",
                        quote(r.mounts[*mount].target.trim_end_matches('/'))
                    )
                }
            })
            .collect();
        let flags: Vec<String> = r
            .mounts
            .iter()
            .map(|m| format!("--mount={}", display(m, dialect).replace('$', "\\$")))
            .collect();
        let cmd = if cmds.is_empty() {
            "true".to_string()
        } else {
            cmds.join(" && ")
        };
        text.push_str(&format!("RUN {} {}\n", flags.join(" "), cmd));
    }
    text
}
