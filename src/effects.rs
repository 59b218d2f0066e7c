//! What each command of a RUN does to the RUN's cache mounts: the cache operations the explorer
//! runs, and how faithfully they stand for the command. Every command is accounted for:
//! - **precise**: the file commands (echo and printf with redirections, cat, tee, touch,
//!   mkdir, cp and mv, rm with or without `-f` and `-r`, ln, ls/stat/test/`[`, find, chmod and
//!   chown, truncate, sed -i, and the readers such as head, grep, sha256sum) become the exact
//!   operations on the files they name;
//! - **profile:TOOL**: a tool with a profile ([`crate::tools`]) is an opaque command over every
//!   cache mount of the RUN, named by its tool;
//! - **opaque**: anything that touches a cache in a way not modelled precisely (an unknown tool,
//!   a path known only when the build runs, a glob, a recursive copy) may read and write anything
//!   under the mounts it can reach;
//! - **no-cache-effect**: a command that names no cache path and is known not to use one
//!   (`true`, `cd`, `export`, `useradd`, an `rm` outside every cache). Paths it names outside
//!   every cache are no shared state: they are counted, not modelled.
//!
//! A command whose failure would not fail the RUN (`|| true`, an `if` condition, a command in a
//! branch that may not run) never fails it here either: its reads become looks.

use crate::containerfile::Command;
use crate::engine::path::{is_within, resolve};
use crate::mount::MountSpec;
use crate::scenario::CacheOp;
use crate::shell::{self, RedirKind, SimpleCmd, Word};

/// How a command is modelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// Exact operations on the files it names.
    Precise,
    /// A tool profile, as an opaque command over the RUN's caches.
    Profile(&'static str),
    /// May read and write anything under the caches it reaches.
    Opaque,
    /// Touches no cache.
    NoCacheEffect,
}

impl Model {
    /// The JSON name: `precise`, `profile:<tool>`, `opaque`, `no-cache-effect`.
    pub fn name(&self) -> String {
        match self {
            Model::Precise => "precise".into(),
            Model::Profile(t) => format!("profile:{t}"),
            Model::Opaque => "opaque".into(),
            Model::NoCacheEffect => "no-cache-effect".into(),
        }
    }
}

/// One command of a RUN and what it does to the caches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandEffect {
    /// The command as written.
    pub text: String,
    /// How it is modelled.
    pub model: Model,
    /// Its cache operations, in order.
    pub ops: Vec<CacheOp>,
}

/// Every command of a RUN, with the paths outside every cache that were left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunEffects {
    /// The commands, in the order they run.
    pub commands: Vec<CommandEffect>,
    /// Paths named outside every cache mount (not shared state).
    pub outside_paths: usize,
}

impl RunEffects {
    /// All cache operations of the RUN, in order.
    pub fn ops(&self) -> Vec<CacheOp> {
        self.commands.iter().flat_map(|c| c.ops.clone()).collect()
    }
}

/// The effects of a RUN's command on `mounts` (targets relative to `workdir`), with the
/// build's variables `env` known to the shell, under the default `/bin/sh -c`.
pub fn of_run(
    command: &Command,
    mounts: &[MountSpec],
    workdir: &str,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<RunEffects, String> {
    let sh = ["/bin/sh".to_string(), "-c".to_string()];
    of_run_in(command, &sh, mounts, workdir, env)
}

/// [`of_run`] under the Dockerfile's `SHELL` (`shell`, its argv before the script). A shell that
/// is no POSIX shell runs the whole script as one opaque command.
pub fn of_run_in(
    command: &Command,
    shell_argv: &[String],
    mounts: &[MountSpec],
    workdir: &str,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<RunEffects, String> {
    let cmds = match command {
        Command::Shell(s) => match shell::Invocation::of_shell(shell_argv) {
            Some(inv) => shell::commands_in(s, env, inv).map_err(|e| e.to_string())?,
            None => vec![SimpleCmd {
                text: format!("{} {s}", shell_argv.join(" ")),
                words: vec![
                    Word::Lit(shell_argv.first().cloned().unwrap_or_default()),
                    Word::Dyn(s.clone()),
                ],
                redirects: Vec::new(),
                stdin_data: false,
                stdin_pipe: false,
                fails_run: true,
                maybe: false,
            }],
        },
        Command::Exec(args) => {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            match a.as_slice() {
                [sh, flag, script, ..]
                    if is_shell(sh) && flag.starts_with('-') && flag.ends_with('c') =>
                {
                    let mut env = env.clone();
                    env.entry("0".into()).or_default();
                    shell::commands(script, &env).map_err(|e| e.to_string())?
                }
                // Exec form runs the program directly: no shell, no expansion.
                _ => vec![SimpleCmd {
                    text: args.join(" "),
                    words: args.iter().map(|a| Word::Lit(a.clone())).collect(),
                    redirects: Vec::new(),
                    stdin_data: false,
                    stdin_pipe: false,
                    fails_run: true,
                    maybe: false,
                }],
            }
        }
    };
    let targets: Vec<String> = mounts.iter().map(|m| resolve(workdir, &m.target)).collect();
    let mut cx = Cx {
        targets,
        cwd: Some(workdir.to_string()),
        outside: 0,
    };
    let mut out = RunEffects::default();
    for c in &cmds {
        let e = cx.command(c);
        out.commands.push(e);
    }
    out.outside_paths = cx.outside;
    Ok(out)
}

fn is_shell(p: &str) -> bool {
    matches!(
        p.rsplit('/').next(),
        Some("sh" | "bash" | "dash" | "ash" | "busybox")
    )
}

/// Where a path operand lies.
enum Place {
    /// In mount `m`, at `rel` below its target (`""`: the target itself).
    Cache(usize, String),
    /// Outside every cache.
    Outside,
    /// Not known before the build runs.
    Unknown,
}

struct Cx {
    targets: Vec<String>,
    /// The shell's directory (`None` once a `cd` went somewhere unknown).
    cwd: Option<String>,
    outside: usize,
}

/// How a command puts bytes in a file.
#[derive(Clone, Copy)]
enum Put {
    /// Opened with `O_TRUNC`, then written (`>`, `cp`, `tee`).
    Write,
    /// `>>`, `tee -a`.
    Append,
    /// At once: a rename (`sed -i`, `mv` within one mount), one `truncate` call, a new link.
    Replace,
}

/// What one command produces while it is classified.
struct Acc {
    ops: Vec<CacheOp>,
    opaque: bool,
    profile: Option<&'static str>,
}

impl Acc {
    fn op(&mut self, op: CacheOp) {
        self.ops.push(op);
    }
}

/// Commands that touch no file but those their operands name (checked) or system paths outside
/// any cache (`/etc`, `/usr`): a cache path among their operands makes them opaque.
const NO_FILES: &[&str] = &[
    "true",
    "false",
    ":",
    "set",
    "export",
    "unset",
    "shift",
    "umask",
    "sleep",
    "exit",
    "return",
    "id",
    "whoami",
    "uname",
    "date",
    "which",
    "type",
    "hash",
    "pwd",
    "printenv",
    "seq",
    "expr",
    "basename",
    "dirname",
    "nproc",
    "getent",
    "groupadd",
    "useradd",
    "adduser",
    "addgroup",
    "usermod",
    "ldconfig",
    "update-ca-certificates",
    "locale-gen",
    "update-alternatives",
    "ulimit",
    "trap",
    "wait",
    "alias",
    "read",
    "local",
    "declare",
    "typeset",
    "source",
    ".",
];

/// Commands that read the files they name and write nothing.
const READERS: &[&str] = &[
    "cat",
    "head",
    "tail",
    "wc",
    "sort",
    "uniq",
    "sha256sum",
    "sha1sum",
    "sha512sum",
    "md5sum",
    "cksum",
    "cmp",
    "diff",
    "od",
    "xxd",
    "base64",
    "strings",
    "less",
    "more",
    "tac",
    "nl",
    "readlink",
    "realpath",
];

/// Commands that run another command: `sudo`, `env VAR=v`, `nice`, `timeout 10`.
fn unwrap_wrapper(words: &[Word]) -> Option<usize> {
    let name = base(words.first()?.lit()?);
    let mut i = 1;
    match name {
        "sudo" | "nice" | "nohup" | "time" | "exec" | "command" | "stdbuf" | "ionice" => {
            while words.get(i)?.lit()?.starts_with('-') {
                i += 1;
            }
        }
        "env" => {
            while let Some(w) = words.get(i).and_then(Word::lit) {
                if w.starts_with('-') || w.contains('=') {
                    i += 1;
                } else {
                    break;
                }
            }
        }
        "timeout" => {
            while words.get(i)?.lit()?.starts_with('-') {
                i += 1;
            }
            i += 1;
        }
        _ => return None,
    }
    (i < words.len()).then_some(i)
}

fn base(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Operands and flags of a command: `-abc` letters, `--long` names, and the rest.
struct Args<'a> {
    flags: String,
    long: Vec<&'a str>,
    operands: Vec<&'a Word>,
}

/// Splits `words` into flags and operands; options in `with_value` take the next word.
fn args<'a>(words: &'a [Word], with_value: &[&str]) -> Args<'a> {
    let mut a = Args {
        flags: String::new(),
        long: Vec::new(),
        operands: Vec::new(),
    };
    let mut it = words.iter();
    let mut done = false;
    while let Some(w) = it.next() {
        match w.lit() {
            Some("--") if !done => done = true,
            Some(l) if !done && l.starts_with("--") => {
                a.long.push(l);
                if with_value.contains(&l) && !l.contains('=') {
                    it.next();
                }
            }
            Some(f) if !done && f.starts_with('-') && f.len() > 1 => {
                a.flags.push_str(&f[1..]);
                if with_value.contains(&f) {
                    it.next();
                }
            }
            _ => a.operands.push(w),
        }
    }
    a
}

impl Cx {
    fn place(&mut self, w: &Word) -> Place {
        let Some(p) = w.lit() else {
            return self.place_glob_or_dyn(w);
        };
        let Some(abs) = self.absolute(p) else {
            return Place::Unknown;
        };
        match self.locate(&abs) {
            Some((m, rel)) => Place::Cache(m, rel),
            None => {
                self.outside += 1;
                Place::Outside
            }
        }
    }

    fn place_glob_or_dyn(&mut self, w: &Word) -> Place {
        match w {
            // A pattern lies below its literal directory part.
            Word::Glob(g) => {
                let Some(abs) = self.literal_dir(g, &['*', '?', '[']) else {
                    return Place::Unknown;
                };
                match self.locate(&abs) {
                    Some((m, rel)) => Place::Cache(m, rel),
                    // A pattern above a cache target may match inside it.
                    None if self.targets.iter().any(|t| is_within(t, &abs)) => Place::Unknown,
                    None => {
                        self.outside += 1;
                        Place::Outside
                    }
                }
            }
            _ => Place::Unknown,
        }
    }

    /// `p` as an absolute path (a relative one against the WORKDIR, when that is known).
    fn absolute(&self, p: &str) -> Option<String> {
        if p.starts_with('/') {
            Some(p.to_string())
        } else {
            Some(resolve(self.cwd.as_ref()?, p))
        }
    }

    /// The absolute directory part of `text` before the first of `stops` (`/c/f.$$` is in
    /// `/c`, `*.txt` in the WORKDIR, `/x*` in `/`).
    fn literal_dir(&self, text: &str, stops: &[char]) -> Option<String> {
        let lit = &text[..text.find(stops).unwrap_or(text.len())];
        match lit.rsplit_once('/') {
            Some(("", _)) => Some("/".into()),
            Some((dir, _)) => self.absolute(dir),
            None => self.absolute(""),
        }
    }

    /// The mount a path lies in, counting nothing (see [`Self::place`]); for a word known only
    /// at build time, the mount of its literal directory part: enough to know a `mv` from it
    /// renames.
    fn mount_of(&self, w: &Word) -> Option<usize> {
        let abs = match w {
            Word::Lit(p) => self.absolute(p)?,
            Word::Dyn(raw) => self.literal_dir(raw, &['$', '`', '"', '\'', '\\'])?,
            Word::Glob(_) => return None,
        };
        self.locate(&abs).map(|(m, _)| m)
    }

    fn locate(&self, abs: &str) -> Option<(usize, String)> {
        self.targets
            .iter()
            .enumerate()
            .filter(|(_, t)| is_within(abs, t))
            .max_by_key(|(_, t)| t.len())
            .map(|(i, t)| {
                let rel = if t == "/" { &abs[1..] } else { &abs[t.len()..] };
                (i, rel.trim_start_matches('/').to_string())
            })
    }

    /// Every mount, opaque: what an unknown command may do.
    fn opaque_all(&self, acc: &mut Acc, what: &str, writes: bool) {
        for m in 0..self.targets.len() {
            acc.op(CacheOp::Opaque {
                mount: m,
                dir: String::new(),
                what: what.to_string(),
                writes,
            });
        }
        acc.opaque = true;
    }

    fn opaque_at(&self, acc: &mut Acc, m: usize, dir: &str, what: &str, writes: bool) {
        acc.op(CacheOp::Opaque {
            mount: m,
            dir: dir.to_string(),
            what: what.to_string(),
            writes,
        });
        acc.opaque = true;
    }

    fn command(&mut self, c: &SimpleCmd) -> CommandEffect {
        let mut acc = Acc {
            ops: Vec::new(),
            opaque: false,
            profile: None,
        };
        let tolerate = !c.fails_run || c.maybe;
        let mut start = 0;
        while let Some(i) = unwrap_wrapper(&c.words[start..]) {
            start += i;
        }
        let words = &c.words[start..];
        let data = output_of(words, c);
        // Input redirections happen before the command runs; output ones open (create or
        // truncate) their files before it runs too, and receive what it prints.
        for r in c.redirects.iter().filter(|r| r.kind == RedirKind::Read) {
            self.read(&mut acc, &r.target, tolerate, &c.text);
        }
        for r in c.redirects.iter().filter(|r| r.kind != RedirKind::Read) {
            match (self.place(&r.target), r.kind) {
                (Place::Cache(m, rel), RedirKind::Write) if !rel.is_empty() => {
                    acc.op(CacheOp::Write {
                        mount: m,
                        file: rel,
                        data: data.clone(),
                    })
                }
                (Place::Cache(m, rel), RedirKind::Append) if !rel.is_empty() => {
                    acc.op(CacheOp::Append {
                        mount: m,
                        file: rel,
                        data: data.clone(),
                    })
                }
                (Place::Cache(m, rel), _) => self.opaque_at(&mut acc, m, &rel, &c.text, true),
                (Place::Outside, _) => {}
                (Place::Unknown, _) => self.opaque_all(&mut acc, &c.text, true),
            }
        }
        if !words.is_empty() {
            self.operands(&mut acc, words, c, tolerate);
        }
        let model = if let Some(t) = acc.profile {
            Model::Profile(t)
        } else if acc.opaque {
            Model::Opaque
        } else if acc.ops.is_empty() {
            Model::NoCacheEffect
        } else {
            Model::Precise
        };
        CommandEffect {
            text: c.text.clone(),
            model,
            ops: acc.ops,
        }
    }

    /// A read of `w`: `cat` (fails when absent) or, when the failure is tolerated, a look.
    fn read(&mut self, acc: &mut Acc, w: &Word, tolerate: bool, text: &str) {
        match self.place(w) {
            Place::Cache(m, rel) if !rel.is_empty() && !matches!(w, Word::Glob(_)) => {
                acc.op(if tolerate {
                    CacheOp::Stat {
                        mount: m,
                        file: rel,
                        must_exist: false,
                    }
                } else {
                    CacheOp::Read {
                        mount: m,
                        file: rel,
                    }
                })
            }
            Place::Cache(m, rel) => self.opaque_at(acc, m, &rel, text, false),
            Place::Outside => {}
            Place::Unknown => self.opaque_all(acc, text, false),
        }
    }

    fn look(&mut self, acc: &mut Acc, w: &Word, must_exist: bool, text: &str) {
        match self.place(w) {
            Place::Cache(m, rel) if !matches!(w, Word::Glob(_)) => acc.op(CacheOp::Stat {
                mount: m,
                file: rel,
                must_exist,
            }),
            Place::Cache(m, rel) => self.opaque_at(acc, m, &rel, text, false),
            Place::Outside => {}
            Place::Unknown => self.opaque_all(acc, text, false),
        }
    }

    fn write(&mut self, acc: &mut Acc, w: &Word, data: &str, put: Put, text: &str) {
        match self.place(w) {
            Place::Cache(m, rel) if !rel.is_empty() && !matches!(w, Word::Glob(_)) => {
                let (mount, file, data) = (m, rel, data.into());
                acc.op(match put {
                    Put::Append => CacheOp::Append { mount, file, data },
                    Put::Write => CacheOp::Write { mount, file, data },
                    Put::Replace => CacheOp::Replace { mount, file, data },
                })
            }
            Place::Cache(m, rel) => self.opaque_at(acc, m, &rel, text, true),
            Place::Outside => {}
            Place::Unknown => self.opaque_all(acc, text, true),
        }
    }

    /// A tree operand (`ls D`, `cp -r D …`, `chmod -R`): everything below it.
    fn tree(&mut self, acc: &mut Acc, w: &Word, writes: bool, text: &str) {
        match self.place(w) {
            Place::Cache(m, rel) => self.opaque_at(acc, m, &rel, text, writes),
            Place::Outside => {}
            Place::Unknown => self.opaque_all(acc, text, writes),
        }
    }

    fn operands(&mut self, acc: &mut Acc, words: &[Word], c: &SimpleCmd, tolerate: bool) {
        let text = c.text.as_str();
        let Some(name) = words[0].lit().map(base) else {
            self.opaque_all(acc, text, true);
            return;
        };
        let rest = &words[1..];
        let lits: Vec<&str> = rest.iter().map(Word::text).collect();
        if let Some(tool) = crate::tools::profile(name, &lits) {
            let what = format!("profile:{}: {text}", tool.name);
            self.opaque_all(acc, &what, true);
            acc.profile = Some(tool.name);
            return;
        }
        match name {
            "echo" | "printf" => {}
            // `[[ … ]]` may test any file; its operands are not taken apart.
            "[[" => self.opaque_all(acc, text, false),
            "cd" => {
                let to = rest.iter().find(|w| w.lit() != Some("--"));
                self.cwd = match (to, &self.cwd) {
                    (Some(Word::Lit(p)), Some(cwd)) => Some(resolve(cwd, p)),
                    (Some(Word::Lit(p)), None) if p.starts_with('/') => Some(p.clone()),
                    _ => None,
                };
            }
            "test" | "[" => {
                for w in rest
                    .iter()
                    .filter(|w| !w.text().starts_with('-') && w.text() != "]")
                {
                    if self.could_be_path(w) {
                        self.look(acc, w, false, text);
                    }
                }
            }
            "stat" => {
                for w in args(rest, &["-c", "-f", "--format"]).operands {
                    self.look(acc, w, !tolerate, text);
                }
            }
            "ls" | "du" | "tree" => {
                let a = args(rest, &["-I", "--ignore", "--block-size"]);
                let here = Word::Lit(".".into());
                let ops = if a.operands.is_empty() {
                    vec![&here]
                } else {
                    a.operands
                };
                for w in ops {
                    self.tree(acc, w, false, text);
                }
            }
            "find" => {
                let paths: Vec<&Word> = rest
                    .iter()
                    .take_while(|w| !w.text().starts_with(['-', '(', '!']))
                    .collect();
                let writes = rest.iter().any(|w| {
                    matches!(
                        w.text(),
                        "-delete" | "-exec" | "-execdir" | "-ok" | "-okdir" | "-fprint" | "-fls"
                    )
                });
                let here = Word::Lit(".".into());
                let paths = if paths.is_empty() { vec![&here] } else { paths };
                for w in paths {
                    self.tree(acc, w, writes, text);
                }
            }
            "grep" | "egrep" | "fgrep" | "rg" => {
                let a = args(rest, &["-e", "-f", "-m", "-A", "-B", "-C", "--include"]);
                let recursive = a.flags.contains(['r', 'R']) || name == "rg";
                let pattern_given = a.flags.contains(['e', 'f']);
                for w in a.operands.iter().skip(usize::from(!pattern_given)) {
                    if recursive {
                        self.tree(acc, w, false, text);
                    } else {
                        self.read(acc, w, true, text);
                    }
                }
            }
            n if READERS.contains(&n) => {
                let a = args(rest, &["-n", "-c", "-w", "-N", "-k", "-t", "-o"]);
                for w in a.operands {
                    if w.lit() != Some("-") {
                        self.read(acc, w, tolerate, text);
                    }
                }
            }
            "tee" => {
                let a = args(rest, &[]);
                let append = a.flags.contains('a') || a.long.contains(&"--append");
                for w in a.operands {
                    let put = if append { Put::Append } else { Put::Write };
                    self.write(acc, w, "(standard input of tee)", put, text);
                }
            }
            "touch" | "mkdir" => {
                let a = args(
                    rest,
                    &["-m", "--mode", "-d", "-t", "-r", "--date", "--reference"],
                );
                for w in a.operands {
                    match self.place(w) {
                        Place::Cache(m, rel) if !matches!(w, Word::Glob(_)) => {
                            if !rel.is_empty() {
                                acc.op(CacheOp::Touch {
                                    mount: m,
                                    file: rel,
                                });
                            }
                        }
                        Place::Cache(m, rel) => self.opaque_at(acc, m, &rel, text, true),
                        Place::Outside => {}
                        Place::Unknown => self.opaque_all(acc, text, true),
                    }
                }
            }
            "chmod" | "chown" | "chgrp" => {
                let a = args(rest, &["--reference"]);
                let recursive = a.flags.contains('R') || a.long.contains(&"--recursive");
                // The first operand is the mode or owner.
                for w in a.operands.iter().skip(1) {
                    if recursive {
                        self.tree(acc, w, true, text);
                    } else {
                        self.look(acc, w, !tolerate && !a.flags.contains('f'), text);
                    }
                }
            }
            "truncate" => {
                let a = args(rest, &["-s", "--size", "-r", "--reference"]);
                for w in a.operands {
                    self.write(acc, w, "(truncated)", Put::Replace, text);
                }
            }
            "sed" => {
                let a = args(rest, &["-e", "-f", "--expression", "--file"]);
                let in_place =
                    a.flags.contains('i') || a.long.iter().any(|l| l.starts_with("--in-place"));
                let script_given = a.flags.contains(['e', 'f'])
                    || a.long.iter().any(|l| l.starts_with("--expression"));
                for w in a.operands.iter().skip(usize::from(!script_given)) {
                    self.read(acc, w, tolerate, text);
                    if in_place {
                        self.write(acc, w, &format!("({text})"), Put::Replace, text);
                    }
                }
            }
            "rm" | "rmdir" | "unlink" => self.rm(acc, name, rest, tolerate, text),
            "cp" | "mv" | "install" => self.copy(acc, name, rest, tolerate, text),
            "ln" => {
                let a = args(rest, &["-t", "--target-directory", "-S", "--suffix"]);
                if let Some((link, targets)) = a.operands.split_last() {
                    let data = format!("-> {}", targets.first().map_or("", |t| t.text()));
                    if targets.is_empty() {
                        return;
                    }
                    self.write(acc, link, &data, Put::Replace, text);
                }
            }
            n if NO_FILES.contains(&n) => {
                for w in rest {
                    if self.could_be_path(w) && !matches!(self.place(w), Place::Outside) {
                        self.opaque_all(acc, text, true);
                        return;
                    }
                }
            }
            // Anything else may use a cache through its configuration, its environment or its
            // working directory, without naming it.
            _ => self.opaque_all(acc, text, true),
        }
    }

    /// Whether an operand may name a file (not a number, flag or `=`).
    fn could_be_path(&self, w: &Word) -> bool {
        let t = w.text();
        // `NAME=value` (export, declare, local, readonly) assigns; it names no file.
        if t.split_once('=')
            .is_some_and(|(n, _)| crate::containerfile::vars::valid_name(n))
        {
            return false;
        }
        !t.is_empty()
            && !t.starts_with('-')
            && (t.contains('/')
                || t.starts_with('.')
                || !matches!(w, Word::Lit(_))
                || self
                    .cwd
                    .as_deref()
                    .is_some_and(|c| self.locate(&resolve(c, t)).is_some()))
    }

    fn rm(&mut self, acc: &mut Acc, name: &str, rest: &[Word], tolerate: bool, text: &str) {
        let a = args(rest, &[]);
        let recursive =
            name == "rm" && (a.flags.contains(['r', 'R']) || a.long.contains(&"--recursive"));
        let force = name == "rm" && (a.flags.contains('f') || a.long.contains(&"--force"));
        for w in a.operands {
            let whole = match w {
                Word::Glob(g) => g.strip_suffix("/*").or_else(|| (g == "*").then_some("")),
                _ => None,
            };
            match (self.place(w), whole) {
                // `rm -rf T/*` or `rm -rf sub/*`: the directory's contents.
                (Place::Cache(m, rel), Some(_)) if recursive => {
                    if rel.is_empty() {
                        acc.op(CacheOp::Wipe { mount: m });
                    } else {
                        acc.op(CacheOp::RemoveTree { mount: m, dir: rel });
                    }
                }
                (Place::Cache(m, rel), _) if matches!(w, Word::Glob(_)) => {
                    self.opaque_at(acc, m, &rel, text, true)
                }
                // The mount point itself: its contents go, then the busy mount point stays.
                (Place::Cache(m, rel), _) if rel.is_empty() => {
                    self.opaque_at(acc, m, "", text, true)
                }
                (Place::Cache(m, rel), _) if recursive || name == "rmdir" => {
                    acc.op(CacheOp::RemoveTree { mount: m, dir: rel })
                }
                (Place::Cache(m, rel), _) => {
                    if !force && !tolerate {
                        acc.op(CacheOp::Stat {
                            mount: m,
                            file: rel.clone(),
                            must_exist: true,
                        });
                    }
                    acc.op(CacheOp::Remove {
                        mount: m,
                        file: rel,
                    });
                }
                (Place::Outside, _) => {}
                (Place::Unknown, _) => self.opaque_all(acc, text, true),
            }
        }
    }

    fn copy(&mut self, acc: &mut Acc, name: &str, rest: &[Word], tolerate: bool, text: &str) {
        let a = args(
            rest,
            &["-t", "--target-directory", "-m", "--mode", "-o", "-g", "-S"],
        );
        let recursive = name != "mv"
            && (a.flags.contains(['r', 'R', 'a'])
                || a.long
                    .iter()
                    .any(|l| *l == "--recursive" || *l == "--archive"));
        let Some((dst, srcs)) = a.operands.split_last() else {
            return;
        };
        let into_dir = srcs.len() > 1 || dst.text().ends_with('/');
        for src in srcs {
            // What arrives at the destination.
            let file = match (into_dir, src.lit()) {
                (true, Some(s)) => Word::Lit(format!(
                    "{}/{}",
                    dst.text().trim_end_matches('/'),
                    base(s.trim_end_matches('/'))
                )),
                (true, None) => Word::Dyn(dst.text().to_string()),
                (false, _) => (*dst).clone(),
            };
            // `mv` within one mount is a rename: the destination is replaced at once. Across
            // mounts (EXDEV) and for `cp` the destination is opened with O_TRUNC and written.
            // Either way the source counts as read: a rename of a file another build is still
            // writing moves its partial bytes into place, and the model's replace does not
            // carry that state along, so the torn-read oracle judges it at the source.
            let renames = name == "mv" && {
                let from = self.mount_of(src);
                from.is_some() && from == self.mount_of(&file)
            };
            let sp = self.place(src);
            // What leaves the source.
            match &sp {
                Place::Cache(m, rel) if recursive || name == "mv" && rel.is_empty() => {
                    self.opaque_at(acc, *m, rel, text, name == "mv")
                }
                Place::Cache(..) => {
                    self.read(acc, src, tolerate, text);
                }
                Place::Outside => {}
                Place::Unknown => self.opaque_all(acc, text, name == "mv"),
            }
            if recursive {
                self.tree(acc, dst, true, text);
            } else {
                let put = if renames { Put::Replace } else { Put::Write };
                self.write(acc, &file, &format!("(copy of {})", src.text()), put, text);
            }
            if let (true, Place::Cache(m, rel)) = (name == "mv", sp)
                && !rel.is_empty()
            {
                acc.op(CacheOp::Remove {
                    mount: m,
                    file: rel,
                });
            }
        }
    }
}

/// What a command prints (the data its output redirections receive).
fn output_of(words: &[Word], c: &SimpleCmd) -> String {
    let name = words.first().and_then(Word::lit).map(base);
    match name {
        Some("echo") => {
            let rest: Vec<&str> = words[1..]
                .iter()
                .map(Word::text)
                .skip_while(|w| matches!(*w, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            rest.join(" ")
        }
        Some("printf") => words[1..]
            .iter()
            .map(Word::text)
            .collect::<Vec<_>>()
            .join(" "),
        Some("cat") if c.stdin_data => format!("(here-document of `{}`)", c.text),
        _ => format!("(output of `{}`)", c.text),
    }
}
