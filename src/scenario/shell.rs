//! The reverse of the effects model: a Containerfile whose RUNs perform given cache operations
//! (what `to_toml` prints for a suite built from operations rather than read from a
//! Dockerfile). [`crate::effects`] reads each precise operation it writes back to the same
//! operation, but a replace, which is written as a rename from a staging file and reads back
//! with that file's write and removal too; an opaque one is written as its command, which reads
//! back as opaque again.

use crate::mount::{Dialect, display};

use super::{Build, CacheOp};

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
/// A build whose stages run at once is written stage by stage, each stage waiting for others
/// with `COPY --from`, so that it reads back to the same lanes.
pub fn containerfile_text(build: &Build, dialect: Dialect) -> String {
    let Some(st) = &build.stages else {
        let mut text = String::from("FROM scratch\n");
        let mut workdir = "/".to_string();
        for r in &build.runs {
            run_text(&mut text, &mut workdir, r, dialect);
        }
        return text;
    };
    let mut text = String::new();
    for (l, name) in st.names.iter().enumerate() {
        text.push_str(&format!("FROM scratch AS {name}\n"));
        let mut workdir = "/".to_string();
        let mut waited: Vec<usize> = Vec::new();
        let mut wait = |text: &mut String, lanes: &[usize]| {
            for &x in lanes {
                if !waited.contains(&x) {
                    waited.push(x);
                    text.push_str(&format!("COPY --from={} / /\n", st.names[x]));
                }
            }
        };
        for (i, r) in build.runs.iter().enumerate() {
            if st.lane.get(i) == Some(&l) {
                wait(&mut text, &st.after[i]);
                run_text(&mut text, &mut workdir, r, dialect);
            }
        }
        wait(&mut text, &st.done_after[l]);
    }
    text.push_str("FROM scratch\n");
    for name in &st.names {
        text.push_str(&format!("COPY --from={name} / /\n"));
    }
    text
}

/// Appends RUN `r` (and the WORKDIR it needs, when it differs from `workdir`) to `text`.
fn run_text(text: &mut String, workdir: &mut String, r: &super::RunStep, dialect: Dialect) {
    if r.workdir != *workdir {
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
        *workdir = r.workdir.clone();
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
            // A rename from a file beside it (the effects read `mv` within one cache as a
            // replace; the staging file's own write and removal come with it).
            CacheOp::Replace { mount, file, data } => {
                let new = path(*mount, &format!("{file}.new"));
                format!(
                    "echo {} > {new} && mv {new} {}",
                    quote(data),
                    path(*mount, file)
                )
            }
            CacheOp::Read { mount, file } => format!("cat {}", path(*mount, file)),
            CacheOp::Remove { mount, file } => format!("rm -f {}", path(*mount, file)),
            CacheOp::Wipe { mount } => {
                format!(
                    "rm -rf {}/*",
                    quote(r.mounts[*mount].target.trim_end_matches('/'))
                )
            }
            CacheOp::RemoveTree { mount, dir } => format!("rm -rf {}", path(*mount, dir)),
            CacheOp::Touch { mount, file } => format!("touch {}", path(*mount, file)),
            CacheOp::Stat {
                mount,
                file,
                must_exist: true,
            } => format!("stat {}", path(*mount, file)),
            CacheOp::Stat { mount, file, .. } => {
                format!("{{ [ -e {} ] || true; }}", path(*mount, file))
            }
            // The command itself: read back, it is classified the same way again.
            CacheOp::Opaque { what, .. } => what
                .strip_prefix("profile:")
                .and_then(|w| w.split_once(": "))
                .map_or(what.as_str(), |(_, cmd)| cmd)
                .to_string(),
        })
        .collect();
    // One opaque command over several mounts is one command.
    let mut cmds = cmds;
    let mut i = 1;
    while i < cmds.len() {
        let same_opaque = matches!((&r.ops[i - 1], &r.ops[i]),
            (CacheOp::Opaque { what: a, .. }, CacheOp::Opaque { what: b, .. }) if a == b);
        if same_opaque {
            cmds[i].clear();
        }
        i += 1;
    }
    cmds.retain(|c| !c.is_empty());
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
