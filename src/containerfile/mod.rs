//! A Dockerfile (Containerfile) as the engines read it, down to the RUN instructions that a build
//! of its target runs, each with its `--mount` flags parsed, its WORKDIR and the variables its
//! shell sees. One concept per module:
//! - [`lex`]: BOM, CRLF, parser directives, the escape character, continuations, here-documents;
//! - [`vars`]: BuildKit's variable expansion;
//! - this module: instructions, ARG/ENV scope, the stage graph (`FROM <stage>` inherits ENV,
//!   WORKDIR and ARGs; only the stages the target needs are built; ONBUILD triggers run in the
//!   stages built on theirs) and the RUN flags.
//!
//! Mount option values are expanded as BuildKit expands them: field by field after the CSV
//! split, every field but `from=` (frontend/dockerfile/instructions/parse.go). Buildah expands
//! the whole flag. Errors carry the line number.

pub mod lex;
pub mod vars;

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
    /// 1-based line where the instruction starts (of the ONBUILD, for a trigger).
    pub line: usize,
    /// Index of the build stage (one per `FROM`).
    pub stage: usize,
    /// The variables in scope (ENV and ARG), which its shell sees.
    pub env: BTreeMap<String, String>,
    /// The shell a shell-form command runs under (`SHELL`; default `["/bin/sh", "-c"]`).
    pub shell: Vec<String>,
    /// Variables its mount options use that the Dockerfile never sets (expanded as empty; the
    /// base image may set them).
    pub unset: Vec<String>,
    /// The WORKDIR in force.
    pub workdir: String,
    /// Its `--mount` flags, in flag order.
    pub mounts: Vec<MountSpec>,
    /// The command.
    pub command: Command,
    /// The stages it waits for: what its stage needs up to and including it (its base, and
    /// every `COPY --from` and `RUN --mount from=` so far). BuildKit's solver starts an
    /// instruction when its inputs are done, so the instructions before a `COPY --from=x` do
    /// not wait for `x`.
    pub after: Vec<usize>,
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

/// A build stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// 1-based line of its FROM.
    pub line: usize,
    /// The stage it is built on, if it is built on one.
    pub base: Option<usize>,
    /// The stages it needs: its base, `COPY --from`, `RUN --mount from=`.
    pub needs: Vec<usize>,
}

/// A Dockerfile read for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Containerfile {
    /// The parser directives.
    pub directives: lex::Directives,
    /// Every stage.
    pub stages: Vec<Stage>,
    /// The target stage.
    pub target: usize,
    /// Whether each stage is built for the target.
    pub built: Vec<bool>,
    /// The RUNs of the built stages, in file order.
    pub runs: Vec<Run>,
}

impl Containerfile {
    /// Pairs of built stages with RUNs, neither of which needs the other: BuildKit builds them
    /// at once (Buildah with `--jobs`).
    pub fn parallel_stages(&self) -> Vec<(usize, usize)> {
        let n = self.stages.len();
        let mut reach = vec![vec![false; n]; n];
        for (i, st) in self.stages.iter().enumerate() {
            // A stage needs only earlier ones, whose rows are complete already.
            for &d in &st.needs {
                let below = reach[d].clone();
                reach[i][d] = true;
                for (r, b) in reach[i].iter_mut().zip(below) {
                    *r |= b;
                }
            }
        }
        let has_runs: Vec<bool> = (0..n)
            .map(|s| self.runs.iter().any(|r| r.stage == s))
            .collect();
        let mut out = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if self.built[a]
                    && self.built[b]
                    && has_runs[a]
                    && has_runs[b]
                    && !reach[a][b]
                    && !reach[b][a]
                {
                    out.push((a, b));
                }
            }
        }
        out
    }
}

/// `K=V K2="V 2"` pairs (ARG, ENV): a bare `K` has no value; legacy `ENV K V W` is one pair.
fn pairs(
    s: &str,
    legacy_env: bool,
    vars: &BTreeMap<String, String>,
    esc: char,
) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    raw_words(s)?; // quotes must close (a backslash escapes one outside single quotes)
    let first_has_eq = s.split_whitespace().next().is_some_and(|w| w.contains('='));
    if legacy_env && !first_has_eq {
        let (k, v) = s
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("ENV {} needs a value (K=V)", s.trim()))?;
        let v = vars::expand(v.trim(), vars, esc, true, &mut Default::default())?;
        out.push((k.to_string(), Some(v)));
    } else {
        // Split on raw words so values keep their quotes for expansion.
        for word in raw_words(s)? {
            match word.split_once('=') {
                Some((k, v)) => {
                    let v = vars::expand(v, vars, esc, true, &mut Default::default())?;
                    out.push((k.to_string(), Some(v)));
                }
                None => out.push((word, None)),
            }
        }
    }
    for (k, _) in &out {
        if !vars::valid_name(k) {
            return Err(format!("bad variable name {k:?}"));
        }
    }
    Ok(out)
}

/// Words split at white space outside quotes, quotes kept.
fn raw_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            cur.push(c);
            esc = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') if quote != Some('\'') => {
                cur.push(c);
                esc = true;
            }
            (Some(q), c) if c == q => {
                cur.push(c);
                quote = None;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                cur.push(c);
                quote = Some(c);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    Ok(words)
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

/// Expands `$V`, `${V}` and the BuildKit modifiers in `s`; unset is empty.
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    vars::expand(s, vars, '\\', false, &mut Default::default())
}

/// Every RUN a build of the last stage runs, mounts parsed in `dialect`, `build_args`
/// overriding ARG defaults.
pub fn parse(
    text: &str,
    dialect: Dialect,
    build_args: &BTreeMap<String, String>,
) -> Result<Vec<Run>, ContainerfileError> {
    read(text, dialect, build_args, None).map(|c| c.runs)
}

/// Per-stage state while reading.
#[derive(Clone, Default)]
struct Scope {
    env: BTreeMap<String, String>,
    args: BTreeMap<String, String>,
    workdir: String,
    onbuild: Vec<(usize, String, Vec<lex::Heredoc>)>,
    /// `SHELL`, when set.
    shell: Option<Vec<String>>,
}

impl Scope {
    fn vars(&self) -> BTreeMap<String, String> {
        let mut v = self.args.clone();
        v.extend(self.env.iter().map(|(k, x)| (k.clone(), x.clone())));
        v
    }
}

/// Reads `text` for the stage named `target` (the last stage when `None`).
pub fn read(
    text: &str,
    dialect: Dialect,
    build_args: &BTreeMap<String, String>,
    target: Option<&str>,
) -> Result<Containerfile, ContainerfileError> {
    let (directives, instrs) = lex::instructions(text)?;
    let esc = directives.escape;
    let mut global: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut queue: std::collections::VecDeque<(usize, String, String, Vec<lex::Heredoc>)> = instrs
        .into_iter()
        .map(|i| (i.line, i.keyword, i.rest, i.heredocs))
        .collect();
    while let Some((line, kw, rest, heredocs)) = queue.pop_front() {
        let e = |problem: String| ContainerfileError { line, problem };
        if !KNOWN.contains(&kw.as_str()) {
            return Err(e(format!("unknown instruction {kw:?}")));
        }
        if stages.is_empty() && kw != "FROM" && kw != "ARG" {
            return Err(e(format!("{kw} before the first FROM")));
        }
        let rest = rest.as_str();
        match kw.as_str() {
            "FROM" => {
                let words = split_words(rest).map_err(e)?;
                let words: Vec<&str> = words
                    .iter()
                    .map(String::as_str)
                    .filter(|w| !w.starts_with("--platform"))
                    .collect();
                let (image, name) = match words.as_slice() {
                    [] => return Err(e("FROM needs an image".into())),
                    [img] => (*img, None),
                    [img, as_, name] if as_.eq_ignore_ascii_case("as") => {
                        (*img, Some(name.to_ascii_lowercase()))
                    }
                    _ => return Err(e(format!("FROM {rest:?}: expected `FROM image [AS name]`"))),
                };
                let image =
                    vars::expand(image, &global, esc, false, &mut Default::default()).map_err(e)?;
                let base = stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(image.to_ascii_lowercase().as_str()));
                let mut scope = match base {
                    Some(b) => {
                        let mut s = scopes[b].clone();
                        s.onbuild.clear();
                        s
                    }
                    None => Scope {
                        workdir: "/".into(),
                        ..Scope::default()
                    },
                };
                let idx = stages.len();
                stages.push(Stage {
                    name,
                    line,
                    base,
                    needs: base.into_iter().collect(),
                });
                // ONBUILD triggers of the base stage run first in this one.
                if let Some(b) = base {
                    for (l, text, hd) in scopes[b].onbuild.iter().rev() {
                        let (k, r) = text
                            .split_once(char::is_whitespace)
                            .map_or((text.as_str(), ""), |(k, r)| (k, r.trim_start()));
                        queue.push_front((*l, k.to_ascii_uppercase(), r.to_string(), hd.clone()));
                    }
                }
                scope.onbuild.clear();
                scopes.push(scope);
                let _ = idx;
            }
            "ARG" => {
                let in_stage = !stages.is_empty();
                let vars = scopes
                    .last()
                    .map(Scope::vars)
                    .unwrap_or_else(|| global.clone());
                for (k, default) in pairs(rest, false, &vars, esc).map_err(e)? {
                    let v = build_args
                        .get(&k)
                        .cloned()
                        .or(default)
                        .or_else(|| {
                            if in_stage {
                                global.get(&k).cloned()
                            } else {
                                None
                            }
                        })
                        .unwrap_or_default();
                    if in_stage {
                        scopes.last_mut().expect("a stage").args.insert(k, v);
                    } else {
                        global.insert(k, v);
                    }
                }
            }
            "ENV" => {
                let scope = scopes.last_mut().expect("a stage");
                let vars = scope.vars();
                for (k, v) in pairs(rest, true, &vars, esc).map_err(e)? {
                    let v = v.ok_or_else(|| e(format!("ENV {k} needs a value (K=V)")))?;
                    scope.env.insert(k, v);
                }
            }
            "WORKDIR" => {
                if rest.is_empty() {
                    return Err(e("WORKDIR needs a path".into()));
                }
                let scope = scopes.last_mut().expect("a stage");
                let w = vars::expand(rest, &scope.vars(), esc, true, &mut Default::default())
                    .map_err(e)?;
                scope.workdir = crate::engine::path::resolve(&scope.workdir, &w);
            }
            "SHELL" => {
                let argv: Vec<String> = serde_json::from_str(rest)
                    .ok()
                    .filter(|v: &Vec<String>| !v.is_empty())
                    .ok_or_else(|| {
                        e(format!(
                            "SHELL needs a JSON array of strings, e.g. [\"/bin/bash\", \"-c\"] (got {rest:?})"
                        ))
                    })?;
                scopes.last_mut().expect("a stage").shell = Some(argv);
            }
            "ONBUILD" => {
                let (k, _) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let k = k.to_ascii_uppercase();
                if matches!(k.as_str(), "ONBUILD" | "FROM" | "MAINTAINER")
                    || !KNOWN.contains(&k.as_str())
                {
                    return Err(e(format!("ONBUILD {k} is not allowed")));
                }
                scopes.last_mut().expect("a stage").onbuild.push((
                    line,
                    rest.to_string(),
                    heredocs,
                ));
            }
            "COPY" | "ADD" => {
                // BuildKit splits COPY and ADD at white space only: quotes are not special.
                for w in rest.split_whitespace() {
                    let Some(from) = w.strip_prefix("--from=") else {
                        if !w.starts_with("--") {
                            break;
                        }
                        continue;
                    };
                    let cur = stages.len() - 1;
                    if let Some(d) = stage_ref(&stages[..cur], from) {
                        stages[cur].needs.push(d);
                    }
                }
            }
            "RUN" => {
                let stage = stages.len() - 1;
                let scope = &scopes[stage];
                let run = parse_run(rest, &heredocs, line, stage, scope, dialect, esc)?;
                for m in &run.mounts {
                    if let Some(d) = m
                        .from
                        .as_deref()
                        .and_then(|f| stage_ref(&stages[..stage], f))
                    {
                        stages[stage].needs.push(d);
                    }
                }
                let mut run = run;
                run.after.clone_from(&stages[stage].needs);
                runs.push(run);
            }
            _ => {}
        }
    }
    if stages.is_empty() {
        return Err(ContainerfileError {
            line: 1,
            problem: "no FROM: a Dockerfile needs at least one stage".into(),
        });
    }
    let target = match target {
        None => stages.len() - 1,
        Some(t) => stages
            .iter()
            .position(|s| s.name.as_deref() == Some(t.to_ascii_lowercase().as_str()))
            .ok_or_else(|| ContainerfileError {
                line: 1,
                problem: format!("no stage named {t:?}"),
            })?,
    };
    let mut built = vec![false; stages.len()];
    let mut todo = vec![target];
    while let Some(s) = todo.pop() {
        if !built[s] {
            built[s] = true;
            todo.extend(stages[s].needs.iter().copied());
        }
    }
    runs.retain(|r| built[r.stage]);
    Ok(Containerfile {
        directives,
        stages,
        target,
        built,
        runs,
    })
}

/// The stage a `--from=` or `from=` names: a stage name or index defined earlier.
fn stage_ref(stages: &[Stage], r: &str) -> Option<usize> {
    let r = r.to_ascii_lowercase();
    stages
        .iter()
        .position(|s| s.name.as_deref() == Some(r.as_str()))
        .or_else(|| r.parse::<usize>().ok().filter(|&i| i < stages.len()))
}

/// The first word of `s` (up to white space outside quotes) and the rest.
fn first_word(s: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => return (&s[..i], s[i..].trim_start()),
            _ => {}
        }
    }
    (s, "")
}

fn mount_keys(opts: &str) -> Vec<(String, String)> {
    mount::csv_fields(opts)
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f.as_str(), ""));
            (k.to_ascii_lowercase(), v.to_string())
        })
        .collect()
}

fn lacks_target(opts: &str) -> bool {
    !mount_keys(opts)
        .iter()
        .any(|(k, _)| matches!(k.as_str(), "target" | "dst" | "destination"))
}

fn is_bind(opts: &str) -> bool {
    mount_keys(opts)
        .iter()
        .find(|(k, _)| k == "type")
        .is_none_or(|(_, v)| v.eq_ignore_ascii_case("bind"))
}

/// A mount flag's value with its variables expanded as the engine expands them.
fn expand_mount(
    value: &str,
    vars: &BTreeMap<String, String>,
    dialect: Dialect,
    esc: char,
    unset: &mut std::collections::BTreeSet<String>,
) -> Result<String, String> {
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => inner,
        _ => value,
    };
    if dialect != Dialect::BuildKit {
        return vars::expand(value, vars, esc, false, unset);
    }
    let mut fields = Vec::new();
    for f in mount::csv_fields(value).map_err(|m| m.to_string())? {
        let (k, v) = f
            .split_once('=')
            .map_or((f.as_str(), None), |(k, v)| (k, Some(v)));
        let v = match v {
            Some(v) if k.eq_ignore_ascii_case("from") => Some(v.to_string()),
            Some(v) => Some(vars::expand(v, vars, esc, true, unset)?),
            None => None,
        };
        let field = match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        };
        fields.push(if field.contains([',', '"']) {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field
        });
    }
    Ok(fields.join(","))
}

fn parse_run(
    rest: &str,
    heredocs: &[lex::Heredoc],
    line: usize,
    stage: usize,
    scope: &Scope,
    dialect: Dialect,
    esc: char,
) -> Result<Run, ContainerfileError> {
    let e = |problem: String| ContainerfileError { line, problem };
    let vars = scope.vars();
    let mut mounts = Vec::new();
    let mut unset = std::collections::BTreeSet::new();
    let mut rest = rest.trim_start();
    while rest.starts_with("--") {
        let (flag, after) = first_word(rest);
        rest = after;
        let flag = &flag[2..];
        let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
        match name {
            "mount" => {
                let mut opts = expand_mount(value, &vars, dialect, esc, &mut unset).map_err(e)?;
                // BuildKit: a bind mount (its default type) with no target mounts at WORKDIR.
                if dialect == Dialect::BuildKit && lacks_target(&opts) && is_bind(&opts) {
                    opts.push_str(&format!(",target={}", scope.workdir));
                }
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
    let command = if rest.starts_with('[') && heredocs.is_empty() {
        match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) if !v.is_empty() => Command::Exec(v),
            // Not a JSON string array: the engines run it as a shell command.
            _ => Command::Shell(rest.to_string()),
        }
    } else if let ([h], true) = (
        heredocs,
        lex::heredoc_openers(rest).len() == 1
            && rest.trim_start().starts_with("<<")
            && first_word(rest).1.is_empty(),
    ) {
        // `RUN <<EOF`: the body is the script, run as a file: by its `#!` interpreter if it
        // has one, else by the shell.
        match h.content.strip_prefix("#!").and_then(|l| l.lines().next()) {
            Some(interp)
                if !["sh", "bash", "dash", "ash"].iter().any(|s| {
                    interp.trim().ends_with(&format!("/{s}"))
                        || interp.trim().ends_with(&format!(" {s}"))
                }) =>
            {
                let mut argv: Vec<String> = interp.split_whitespace().map(String::from).collect();
                argv.push(format!("<<{}", h.name));
                Command::Exec(argv)
            }
            _ => Command::Shell(h.content.clone()),
        }
    } else if heredocs.is_empty() {
        Command::Shell(rest.to_string())
    } else {
        // `RUN cmd <<EOF`: the shell reads the line and the bodies, as written.
        let mut s = rest.to_string();
        s.push('\n');
        for h in heredocs {
            s.push_str(&h.content);
            s.push_str(&h.name);
            s.push('\n');
        }
        Command::Shell(s)
    };
    Ok(Run {
        line,
        stage,
        shell: scope
            .shell
            .clone()
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]),
        env: vars,
        unset: unset.into_iter().collect(),
        workdir: scope.workdir.clone(),
        mounts,
        command,
        after: Vec::new(),
    })
}
