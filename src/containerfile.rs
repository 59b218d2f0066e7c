//! RUN instructions of a Containerfile, with their `--mount` flags parsed: line continuations,
//! comments, exec and shell form, and `ARG`/`ENV` values (and `--build-arg`s) substituted into the
//! mount options as the engines do (`id=lk-${TAG}`). Errors carry the line number.

use std::collections::BTreeMap;
use std::fmt;

use crate::mount::{self, Dialect, MountSpec};

/// A RUN's command: exec form (`["a","b"]`) or shell form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `RUN cmd args…`, run by the shell.
    Shell(String),
    /// `RUN ["prog", "arg"]`.
    Exec(Vec<String>),
}

/// One RUN instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// Index of the build stage (one per `FROM`).
    pub stage: usize,
    /// The WORKDIR in force.
    pub workdir: String,
    /// Its `--mount` flags, in flag order.
    pub mounts: Vec<MountSpec>,
    /// The command.
    pub command: Command,
}

/// A Containerfile the reader rejected: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerfileError {
    /// 1-based line of the offending instruction.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ContainerfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for ContainerfileError {}

const KNOWN: &[&str] = &[
    "FROM",
    "RUN",
    "ARG",
    "ENV",
    "WORKDIR",
    "COPY",
    "ADD",
    "CMD",
    "ENTRYPOINT",
    "LABEL",
    "USER",
    "EXPOSE",
    "VOLUME",
    "SHELL",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "ONBUILD",
    "MAINTAINER",
];

/// Logical instructions: (first line number, text with continuations joined).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && cur.is_some()) {
            continue; // comments (also inside continuations) and blank continuation lines
        }
        if trimmed.is_empty() {
            continue;
        }
        let (body, continues) = match raw.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (raw.trim_end(), false),
        };
        let entry = cur.get_or_insert_with(|| (i + 1, String::new()));
        if !entry.1.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body.trim());
        if !continues {
            out.extend(cur.take());
        }
    }
    out.extend(cur);
    out
}

/// Expands `$V`, `${V}`, `${V:-default}` and `${V:+alt}`; `\$` is a literal `$`. Unset is empty.
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' if it.peek() == Some(&'$') => {
                out.push('$');
                it.next();
            }
            '$' if it.peek() == Some(&'{') => {
                it.next();
                let mut inner = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(ch) => inner.push(ch),
                        None => return Err(format!("unterminated ${{ in {s:?}")),
                    }
                }
                let (name, op) = match inner.find(":-").or_else(|| inner.find(":+")) {
                    Some(p) => (&inner[..p], Some((&inner[p..p + 2], &inner[p + 2..]))),
                    None => (inner.as_str(), None),
                };
                if !valid_name(name) {
                    return Err(format!("bad variable name {name:?} in {s:?}"));
                }
                let val = vars.get(name).filter(|v| !v.is_empty());
                match op {
                    None => out.push_str(val.map_or("", String::as_str)),
                    Some((":-", d)) => out.push_str(val.map_or(d, String::as_str)),
                    Some((_, alt)) => out.push_str(if val.is_some() { alt } else { "" }),
                }
            }
            '$' if it
                .peek()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_') =>
            {
                let mut name = String::new();
                while let Some(&ch) = it.peek() {
                    if ch.is_ascii_alphanumeric() || ch == '_' {
                        name.push(ch);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push_str(vars.get(&name).map_or("", String::as_str));
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with(|c: char| c.is_ascii_digit())
}

/// `K=V K2="V 2"` pairs (ARG, ENV); a bare `K` has no value. Quotes group and are removed.
fn pairs(s: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    for word in split_words(s)? {
        match word.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
            None => out.push((word, None)),
        }
    }
    for (k, _) in &out {
        if !valid_name(k) {
            return Err(format!("bad variable name {k:?}"));
        }
    }
    Ok(out)
}

/// Shell-like words: whitespace separates, single and double quotes group and are removed.
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Reads every RUN of `text`, parsing mounts in `dialect` with `build_args` overriding ARG defaults.
pub fn parse(
    text: &str,
    dialect: Dialect,
    build_args: &BTreeMap<String, String>,
) -> Result<Vec<Run>, ContainerfileError> {
    let mut runs = Vec::new();
    let mut global: BTreeMap<String, String> = BTreeMap::new();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut stage: Option<usize> = None;
    let mut workdir = "/".to_string();
    for (line, instr) in logical_lines(text) {
        let e = |problem: String| ContainerfileError { line, problem };
        let (kw, rest) = instr
            .split_once(char::is_whitespace)
            .map_or((instr.as_str(), ""), |(k, r)| (k, r.trim()));
        let kw = kw.to_ascii_uppercase();
        if !KNOWN.contains(&kw.as_str()) {
            return Err(e(format!("unknown instruction {kw:?}")));
        }
        if stage.is_none() && kw != "FROM" && kw != "ARG" {
            return Err(e(format!("{kw} before the first FROM")));
        }
        match kw.as_str() {
            "FROM" => {
                if rest.is_empty() {
                    return Err(e("FROM needs an image".into()));
                }
                stage = Some(stage.map_or(0, |s| s + 1));
                vars.clear();
                workdir = "/".into();
            }
            "ARG" => {
                for (k, default) in pairs(rest).map_err(e)? {
                    let v = build_args
                        .get(&k)
                        .cloned()
                        .or(default)
                        .or_else(|| {
                            if stage.is_some() {
                                global.get(&k).cloned()
                            } else {
                                None
                            }
                        })
                        .unwrap_or_default();
                    let v = expand(&v, &vars).map_err(e)?;
                    if stage.is_some() {
                        vars.insert(k, v);
                    } else {
                        global.insert(k, v);
                    }
                }
            }
            "ENV" => {
                for (k, v) in pairs(rest).map_err(e)? {
                    let v = v.ok_or_else(|| e(format!("ENV {k} needs a value (K=V)")))?;
                    let v = expand(&v, &vars).map_err(e)?;
                    vars.insert(k, v);
                }
            }
            "WORKDIR" => {
                if rest.is_empty() {
                    return Err(e("WORKDIR needs a path".into()));
                }
                let w = expand(rest, &vars).map_err(e)?;
                workdir = crate::engine::path::resolve(&workdir, &w);
            }
            "RUN" => runs.push(parse_run(
                rest,
                line,
                stage.unwrap_or(0),
                &workdir,
                &vars,
                dialect,
            )?),
            _ => {}
        }
    }
    Ok(runs)
}

fn parse_run(
    rest: &str,
    line: usize,
    stage: usize,
    workdir: &str,
    vars: &BTreeMap<String, String>,
    dialect: Dialect,
) -> Result<Run, ContainerfileError> {
    let e = |problem: String| ContainerfileError { line, problem };
    let mut mounts = Vec::new();
    let mut rest = rest.trim_start();
    while let Some(flag_start) = rest.strip_prefix("--") {
        let end = flag_start
            .find(char::is_whitespace)
            .unwrap_or(flag_start.len());
        let flag = &flag_start[..end];
        rest = flag_start[end..].trim_start();
        let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
        match name {
            "mount" => {
                let opts = expand(value, vars).map_err(e)?;
                let spec =
                    mount::parse(&opts, dialect).map_err(|m| e(format!("--mount={value}: {m}")))?;
                mounts.push(spec);
            }
            "network" | "security" => {}
            _ => return Err(e(format!("unknown RUN flag --{name}"))),
        }
    }
    if rest.is_empty() {
        return Err(e("RUN has no command".into()));
    }
    let command = if rest.starts_with('[') {
        match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) if !v.is_empty() => Command::Exec(v),
            // Not a JSON string array: the engines run it as a shell command.
            _ => Command::Shell(rest.to_string()),
        }
    } else {
        Command::Shell(rest.to_string())
    };
    Ok(Run {
        line,
        stage,
        workdir: workdir.to_string(),
        mounts,
        command,
    })
}
