//! RUN scripts as `/bin/sh -c` reads them. The script is parsed by brush-parser (MIT; POSIX and
//! bash syntax: lists, pipelines, `&&`/`||`, subshells and groups, `if`/`for`/`while`/`case`,
//! functions, here-documents, command and process substitution) and flattened into the simple
//! commands that run, in order. Each comes with its words expanded as far as the build's
//! variables allow, its redirections, and two facts the effects need:
//! - whether its failure fails the RUN (`set -e`, the last command of the script, `|| true`,
//!   an `if` condition, the non-last stages of a pipeline without `pipefail`);
//! - whether it may not run at all (an `if` branch, a loop body, what follows `||`).
//!
//! `sh -c '…'` (and `bash -c`) is read as a nested script; a `for` over literal words is
//! unrolled. What the reader cannot know statically (an unset variable, a command
//! substitution, a glob) is kept as such, never guessed.

use std::collections::BTreeMap;

use brush_parser::ast::{
    self, AndOr, Command as AstCommand, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList,
    IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline,
};
use brush_parser::word::{Parameter, ParameterExpr, WordPiece, WordPieceWithSource};
use brush_parser::{Parser, ParserOptions};

/// One word after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    /// Known text.
    Lit(String),
    /// Text with an unquoted `*`, `?` or `[`: a pattern the shell expands against the files.
    Glob(String),
    /// Not known before the build runs (an unset variable, a command substitution): the raw text.
    Dyn(String),
}

impl Word {
    /// The text when it is known and no pattern.
    pub fn lit(&self) -> Option<&str> {
        match self {
            Word::Lit(s) => Some(s),
            _ => None,
        }
    }
    /// The text as written or expanded, for reports.
    pub fn text(&self) -> &str {
        match self {
            Word::Lit(s) | Word::Glob(s) | Word::Dyn(s) => s,
        }
    }
}

/// How a redirection uses its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirKind {
    /// `< f`.
    Read,
    /// `> f`, `>| f`, `&> f`.
    Write,
    /// `>> f`, `&>> f`.
    Append,
    /// `<> f`.
    ReadWrite,
}

/// A redirection to or from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// How.
    pub kind: RedirKind,
    /// The file.
    pub target: Word,
}

/// One simple command of a script, in the order it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCmd {
    /// The command as written (after `sh -c` unwrapping), for reports.
    pub text: String,
    /// Name and arguments, expanded (assignments are not words).
    pub words: Vec<Word>,
    /// File redirections (descriptor duplications such as `2>&1` are not files).
    pub redirects: Vec<Redirect>,
    /// Its standard input is a here-document or here-string (data, not a file).
    pub stdin_data: bool,
    /// Its standard input comes from the previous stage of a pipeline.
    pub stdin_pipe: bool,
    /// Its failure fails the RUN.
    pub fails_run: bool,
    /// It may not run (a branch, a loop body, after `||`).
    pub maybe: bool,
}

/// A script the parser rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellError(pub String);

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_NESTING: usize = 8;

/// How the shell that runs a RUN's script was started: the Dockerfile's `SHELL` (default
/// `["/bin/sh", "-c"]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// bash (its syntax: `[[`, `((…))`, process substitution), not POSIX sh.
    pub bash: bool,
    /// Started with `-e`.
    pub errexit: bool,
    /// Started with `-o pipefail`.
    pub pipefail: bool,
}

impl Invocation {
    /// The invocation a `SHELL` argv gives, or `None` when it is no POSIX shell (PowerShell,
    /// cmd, python): its scripts are not read here.
    pub fn of_shell(argv: &[String]) -> Option<Invocation> {
        let prog = argv.first()?.rsplit('/').next()?;
        let mut inv = Invocation {
            bash: prog == "bash",
            ..Invocation::default()
        };
        if !matches!(prog, "sh" | "bash" | "dash" | "ash") {
            return None;
        }
        let mut it = argv[1..].iter().map(String::as_str).peekable();
        while let Some(a) = it.next() {
            if a == "-o" || a == "+o" {
                match it.next() {
                    Some("pipefail") => inv.pipefail = a == "-o",
                    Some("errexit") => inv.errexit = a == "-o",
                    _ => {}
                }
            } else if let Some(f) = a.strip_prefix('-') {
                inv.errexit |= f.contains('e');
            }
        }
        Some(inv)
    }
}

/// The simple commands of `script`, run by `/bin/sh -c` with the variables `env` set.
pub fn commands(
    script: &str,
    env: &BTreeMap<String, String>,
) -> Result<Vec<SimpleCmd>, ShellError> {
    commands_in(script, env, Invocation::default())
}

/// The simple commands of `script`, run by the shell `inv` describes.
pub fn commands_in(
    script: &str,
    env: &BTreeMap<String, String>,
    inv: Invocation,
) -> Result<Vec<SimpleCmd>, ShellError> {
    let mut w = Walker {
        vars: env
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
        errexit: inv.errexit,
        pipefail: inv.pipefail,
        bash: inv.bash,
        out: Vec::new(),
        depth: 0,
    };
    w.script(script, Ctx::TOP)?;
    Ok(w.out)
}

fn options(bash: bool) -> ParserOptions {
    ParserOptions {
        sh_mode: !bash,
        ..ParserOptions::default()
    }
}

/// Where a piece of the script sits.
#[derive(Clone, Copy)]
struct Ctx {
    /// A failed status here fails the RUN (if nothing later handles it).
    fails: bool,
    /// It may not run.
    maybe: bool,
}

impl Ctx {
    const TOP: Ctx = Ctx {
        fails: true,
        maybe: false,
    };
}

struct Walker {
    /// Known variables (`None`: set to something not known statically).
    vars: BTreeMap<String, Option<String>>,
    errexit: bool,
    pipefail: bool,
    /// bash syntax (nested `sh -c` scripts are POSIX again).
    bash: bool,
    out: Vec<SimpleCmd>,
    depth: usize,
}

impl Walker {
    fn script(&mut self, text: &str, ctx: Ctx) -> Result<(), ShellError> {
        if self.depth >= MAX_NESTING {
            return Err(ShellError(format!(
                "scripts nested deeper than {MAX_NESTING} (sh -c inside sh -c …)"
            )));
        }
        check_heredoc_delimiters(text)?;
        check_subscripts_in_brackets(text)?;
        check_fd_numbers(text, self.bash)?;
        let mut p = Parser::new(std::io::Cursor::new(text), &options(self.bash));
        let prog = p
            .parse_program()
            .map_err(|e| ShellError(format!("shell syntax: {e}")))?;
        self.depth += 1;
        let n = prog.complete_commands.len();
        for (i, cc) in prog.complete_commands.iter().enumerate() {
            let c = Ctx {
                fails: ctx.fails && i + 1 == n,
                ..ctx
            };
            self.list(cc, c);
        }
        self.depth -= 1;
        Ok(())
    }

    fn list(&mut self, l: &CompoundList, ctx: Ctx) {
        let n = l.0.len();
        for (i, item) in l.0.iter().enumerate() {
            let async_ = matches!(item.1, ast::SeparatorOperator::Async);
            let c = Ctx {
                fails: !async_ && (ctx.fails && i + 1 == n),
                maybe: ctx.maybe,
            };
            self.and_or(&item.0, c);
        }
    }

    fn and_or(&mut self, l: &ast::AndOrList, ctx: Ctx) {
        let pipes: Vec<(&Pipeline, bool)> = std::iter::once((&l.first, false))
            .chain(l.additional.iter().map(|a| match a {
                AndOr::And(p) => (p, false),
                AndOr::Or(p) => (p, true),
            }))
            .collect();
        let mut after_or = false;
        for (k, (p, is_or)) in pipes.iter().enumerate() {
            after_or |= *is_or;
            let handled = pipes[k + 1..].iter().any(|(_, o)| *o);
            let c = Ctx {
                // With `set -e` a failure fails the RUN unless it is tested (`a || b`).
                fails: !handled && (ctx.fails || self.errexit),
                maybe: ctx.maybe || after_or,
            };
            self.pipeline(p, c);
        }
    }

    fn pipeline(&mut self, p: &Pipeline, ctx: Ctx) {
        let n = p.seq.len();
        for (i, cmd) in p.seq.iter().enumerate() {
            let last = i + 1 == n;
            let c = Ctx {
                fails: !p.bang && ctx.fails && (last || self.pipefail),
                maybe: ctx.maybe,
            };
            let start = self.out.len();
            self.command(cmd, c);
            if i > 0
                && let Some(first) = self.out.get_mut(start)
            {
                first.stdin_pipe = true;
            }
        }
    }

    fn command(&mut self, c: &AstCommand, ctx: Ctx) {
        match c {
            AstCommand::Simple(s) => self.simple(s, ctx),
            AstCommand::Compound(cc, redirs) => {
                let start = self.out.len();
                self.compound(cc, ctx);
                // A group's redirections apply to every command in it.
                if let Some(r) = redirs {
                    let extra: Vec<Redirect> =
                        r.0.iter().filter_map(|r| self.redirect(r)).collect();
                    for cmd in &mut self.out[start..] {
                        cmd.redirects.extend(extra.iter().cloned());
                    }
                }
            }
            // A definition runs nothing; its body may run whenever it is called.
            AstCommand::Function(f) => {
                let ast::FunctionBody(body, _) = &f.body;
                self.compound(
                    body,
                    Ctx {
                        fails: false,
                        maybe: true,
                    },
                );
            }
            AstCommand::ExtendedTest(..) => self.out.push(SimpleCmd {
                text: "[[ … ]]".into(),
                words: vec![Word::Lit("[[".into())],
                redirects: Vec::new(),
                stdin_data: false,
                stdin_pipe: false,
                fails_run: ctx.fails,
                maybe: ctx.maybe,
            }),
        }
    }

    fn compound(&mut self, c: &CompoundCommand, ctx: Ctx) {
        let body = Ctx { maybe: true, ..ctx };
        let cond = Ctx {
            fails: false,
            ..ctx
        };
        match c {
            CompoundCommand::BraceGroup(g) => self.list(&g.list, ctx),
            CompoundCommand::Subshell(s) => {
                let (e, p) = (self.errexit, self.pipefail);
                self.list(&s.list, ctx);
                (self.errexit, self.pipefail) = (e, p);
            }
            CompoundCommand::IfClause(i) => {
                self.list(&i.condition, cond);
                self.list(&i.then, body);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(
                            c,
                            Ctx {
                                maybe: true,
                                ..cond
                            },
                        );
                    }
                    self.list(&e.body, body);
                }
            }
            CompoundCommand::ForClause(f) => {
                let values: Option<Vec<String>> = match &f.values {
                    Some(ws) => ws
                        .iter()
                        .map(|w| self.expand(&w.value).lit().map(str::to_string))
                        .collect(),
                    None => None,
                };
                match values {
                    Some(vs) => {
                        for v in vs {
                            self.vars.insert(f.variable_name.clone(), Some(v));
                            self.list(&f.body.list, ctx);
                        }
                    }
                    None => {
                        self.vars.insert(f.variable_name.clone(), None);
                        self.list(&f.body.list, body);
                    }
                }
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                self.list(&w.0, cond);
                self.list(&w.1.list, body);
            }
            CompoundCommand::CaseClause(c) => {
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.list(l, body);
                    }
                }
            }
            CompoundCommand::ArithmeticForClause(f) => self.list(&f.body.list, body),
            // A coprocess runs its command alongside; its status is not the list's.
            CompoundCommand::Coprocess(c) => self.command(
                &c.body,
                Ctx {
                    fails: false,
                    ..ctx
                },
            ),
            // `(( … ))` touches no file.
            CompoundCommand::Arithmetic(_) => {}
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand, ctx: Ctx) {
        let mut words = Vec::new();
        let mut redirects = Vec::new();
        let mut assigns: Vec<(String, Option<String>)> = Vec::new();
        let mut stdin_data = false;
        let mut raw: Vec<String> = Vec::new();
        let items = s
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .map(Some)
            .chain(std::iter::once(None))
            .chain(s.suffix.iter().flat_map(|p| p.0.iter()).map(Some));
        for item in items {
            match item {
                None => {
                    if let Some(w) = &s.word_or_name {
                        raw.push(w.value.clone());
                        words.push(self.expand(&w.value));
                    }
                }
                Some(CommandPrefixOrSuffixItem::Word(w)) => {
                    raw.push(w.value.clone());
                    words.push(self.expand(&w.value));
                }
                Some(CommandPrefixOrSuffixItem::AssignmentWord(a, w)) => {
                    raw.push(w.value.clone());
                    let name = match &a.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                    };
                    let value = match &a.value {
                        ast::AssignmentValue::Scalar(v) => {
                            self.expand(&v.value).lit().map(str::to_string)
                        }
                        ast::AssignmentValue::Array(_) => None,
                    };
                    assigns.push((name, value));
                }
                Some(CommandPrefixOrSuffixItem::IoRedirect(r)) => {
                    raw.push(r.to_string());
                    match r {
                        IoRedirect::HereDocument(..) | IoRedirect::HereString(..) => {
                            stdin_data = true;
                        }
                        _ => redirects.extend(self.redirect(r)),
                    }
                }
                Some(CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub)) => {
                    raw.push("<(…)".into());
                    self.list(
                        &sub.list,
                        Ctx {
                            fails: false,
                            ..ctx
                        },
                    );
                    words.push(Word::Dyn("<(…)".into()));
                }
            }
        }
        let text = raw.join(" ");
        if words.is_empty() {
            // `X=v`: sets shell variables.
            for (k, v) in assigns {
                self.vars.insert(k, v);
            }
            return;
        }
        let name = words[0]
            .lit()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string());
        match name.as_deref() {
            Some("set") => self.set(&words[1..]),
            Some("sh" | "bash" | "dash" | "ash") => {
                if let Some((flags, script)) = dash_c(&words[1..]) {
                    let (e, p, b) = (self.errexit, self.pipefail, self.bash);
                    self.errexit = flags.contains('e');
                    self.bash = name.as_deref() == Some("bash");
                    let pushed = self.out.len();
                    let r = self.script(script, ctx);
                    (self.errexit, self.pipefail, self.bash) = (e, p, b);
                    if r.is_ok() {
                        return;
                    }
                    self.out.truncate(pushed);
                }
            }
            _ => {}
        }
        self.out.push(SimpleCmd {
            text,
            words,
            redirects,
            stdin_data,
            stdin_pipe: false,
            fails_run: ctx.fails,
            maybe: ctx.maybe,
        });
    }

    fn set(&mut self, args: &[Word]) {
        let mut it = args.iter().filter_map(Word::lit);
        while let Some(a) = it.next() {
            let on = a.starts_with('-');
            if a == "-o" || a == "+o" {
                match it.next() {
                    Some("errexit") => self.errexit = on,
                    Some("pipefail") => self.pipefail = on,
                    _ => {}
                }
            } else if (a.starts_with('-') || a.starts_with('+')) && a.contains('e') {
                self.errexit = on;
            }
        }
    }

    fn redirect(&mut self, r: &IoRedirect) -> Option<Redirect> {
        if let IoRedirect::File(_, _, IoFileRedirectTarget::ProcessSubstitution(_, sub)) = r {
            // `> >(tee f)`: the substituted commands run too.
            self.list(
                &sub.list,
                Ctx {
                    fails: false,
                    maybe: false,
                },
            );
            return None;
        }
        let (kind, target) = match r {
            IoRedirect::File(_, kind, IoFileRedirectTarget::Filename(w)) => {
                let k = match kind {
                    IoFileRedirectKind::Read => RedirKind::Read,
                    IoFileRedirectKind::Write | IoFileRedirectKind::Clobber => RedirKind::Write,
                    IoFileRedirectKind::Append => RedirKind::Append,
                    IoFileRedirectKind::ReadAndWrite => RedirKind::ReadWrite,
                    IoFileRedirectKind::DuplicateInput | IoFileRedirectKind::DuplicateOutput => {
                        return None;
                    }
                };
                (k, w)
            }
            // `>&file` with a word that is not a descriptor number names a file.
            IoRedirect::File(
                _,
                IoFileRedirectKind::DuplicateOutput,
                IoFileRedirectTarget::Duplicate(w),
            ) if !w.value.chars().all(|c| c.is_ascii_digit() || c == '-') => (RedirKind::Write, w),
            IoRedirect::OutputAndError(w, append) => (
                if *append {
                    RedirKind::Append
                } else {
                    RedirKind::Write
                },
                w,
            ),
            _ => return None,
        };
        Some(Redirect {
            kind,
            target: self.expand(&target.value),
        })
    }

    /// Expands one word as the shell would before running the command: quotes removed,
    /// known variables substituted; command substitutions run (their commands are walked).
    fn expand(&mut self, raw: &str) -> Word {
        if dir_stack_tilde(raw) {
            return Word::Dyn(raw.to_string());
        }
        let pieces = match brush_parser::word::parse(raw, &options(self.bash)) {
            Ok(p) => p,
            Err(_) => return Word::Dyn(raw.to_string()),
        };
        let mut out = String::new();
        let (mut dynamic, mut glob) = (false, false);
        self.pieces(&pieces, false, &mut out, &mut dynamic, &mut glob);
        if dynamic {
            Word::Dyn(raw.to_string())
        } else if glob {
            Word::Glob(out)
        } else {
            Word::Lit(out)
        }
    }

    fn pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        quoted: bool,
        out: &mut String,
        dynamic: &mut bool,
        glob: &mut bool,
    ) {
        for p in pieces {
            match &p.piece {
                WordPiece::Text(t) => {
                    let bracket = t.find('[').is_some_and(|i| t[i + 1..].contains(']'));
                    if !quoted && (t.contains(['*', '?']) || bracket) {
                        *glob = true;
                    }
                    out.push_str(t);
                }
                WordPiece::SingleQuotedText(t) | WordPiece::AnsiCQuotedText(t) => out.push_str(t),
                WordPiece::EscapeSequence(e) => out.push_str(e.strip_prefix('\\').unwrap_or(e)),
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.pieces(inner, true, out, dynamic, glob)
                }
                WordPiece::ParameterExpansion(pe) => match self.parameter(pe) {
                    Some(v) => out.push_str(&v),
                    None => *dynamic = true,
                },
                WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                    // The substitution runs first; its status is not the command's.
                    let keep = self.errexit;
                    let _ = self.script(
                        s,
                        Ctx {
                            fails: false,
                            maybe: false,
                        },
                    );
                    self.errexit = keep;
                    *dynamic = true;
                }
                WordPiece::TildeExpansion(_) | WordPiece::ArithmeticExpression(_) => {
                    *dynamic = true
                }
            }
        }
    }

    /// A parameter's value, when known: `$V`, `${V}`, `${V:-w}`, `${V-w}`.
    fn parameter(&mut self, pe: &ParameterExpr) -> Option<String> {
        let value = |w: &Self, p: &Parameter| match p {
            Parameter::Named(n) => w.vars.get(n).cloned(),
            _ => Some(None),
        };
        match pe {
            ParameterExpr::Parameter {
                parameter,
                indirect: false,
            } => value(self, parameter).flatten(),
            ParameterExpr::UseDefaultValues {
                parameter,
                indirect: false,
                test_type,
                default_value,
            } => {
                let null_too = matches!(
                    test_type,
                    brush_parser::word::ParameterTestType::UnsetOrNull
                );
                match value(self, parameter) {
                    Some(Some(v)) if !(v.is_empty() && null_too) => Some(v),
                    // Set and empty: the default. Not set by the build: the base image's
                    // environment may set it, so the value is not known.
                    Some(Some(_)) => match default_value {
                        Some(d) => self.expand(d).lit().map(str::to_string),
                        None => Some(String::new()),
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Refuses a redirection's descriptor number that does not fit an `i32` (`6666666666>`): the
/// parser crate unwraps its parse and would panic (found by the `containerfile` fuzz target).
/// The check reads the crate's own tokens, with the parser's rule for an I/O number: a word of
/// digits that ends where a `<` or `>` operator starts. So quotes, escapes and here-document
/// bodies are read as the parser reads them.
fn check_fd_numbers(text: &str, bash: bool) -> Result<(), ShellError> {
    use brush_parser::Token;
    let tokens = brush_parser::tokenize_str_with_options(text, &options(bash).tokenizer_options())
        .map_err(|e| ShellError(format!("shell syntax: {e}")))?;
    for pair in tokens.windows(2) {
        if let [Token::Word(w, at), Token::Operator(o, next)] = pair
            && !w.is_empty()
            && w.chars().all(|c| c.is_ascii_digit())
            && o.starts_with(['<', '>'])
            && at.end.index == next.start.index
            && w.parse::<ast::IoFd>().is_err()
        {
            return Err(ShellError(format!(
                "file descriptor {w} in a redirection is out of range"
            )));
        }
    }
    Ok(())
}

/// Refuses a here-document operator (`<<`, `<<-`) without a delimiter word after it: one that
/// starts with a control character (a carriage return, a newline, a NUL), an operator
/// character or the end of the text, or
/// an empty quoted one (`<< ""`). brush-parser 0.4's tokenizer never ends on several of these
/// (`c <<\r `, `$(c <<- > f s) `, `c << "" `: found by the `containerfile` fuzz target as
/// out-of-memory runs). A shell rejects all but the last as a syntax error, and an empty
/// delimiter is not seen in real Dockerfiles; the scan is textual, so it also refuses such text
/// in quotes. A here-string (`<<<`) and a shift (`$((1<<2))`) are left alone.
fn check_heredoc_delimiters(text: &str) -> Result<(), ShellError> {
    let bytes = text.as_bytes();
    // `${` opened and not closed before each position (textual), and whether a command
    // substitution `$(` (not an arithmetic `$((`) is open there.
    let mut open = vec![0usize; bytes.len() + 1];
    let mut in_subst = vec![false; bytes.len() + 1];
    let mut parens: Vec<bool> = Vec::new();
    for i in 0..bytes.len() {
        open[i + 1] = match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => open[i] + 1,
            b'}' => open[i].saturating_sub(1),
            _ => open[i],
        };
        match bytes[i] {
            b'(' => parens.push(i > 0 && bytes[i - 1] == b'$' && bytes.get(i + 1) != Some(&b'(')),
            b')' => {
                parens.pop();
            }
            _ => {}
        }
        in_subst[i + 1] = parens.contains(&true);
    }
    for (i, _) in text.match_indices("<<") {
        // The tokenizer panics on a here-document that starts inside `${…` (a fuzz crash);
        // no shell takes one there.
        if open[i] > 0 {
            return Err(ShellError(
                "a here-document operator (<<) inside an unclosed ${…} is not supported (the shell parser, brush-parser 0.4, fails on it)".into(),
            ));
        }
        let rest = &bytes[i + 2..];
        if rest.first() == Some(&b'<') {
            continue;
        }
        let rest = rest.strip_prefix(b"-").unwrap_or(rest);
        let start = rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(rest.len());
        // Inside `$(`, two blanks before the delimiter: the tokenizer loses it and may never
        // end (`$(x <<  b) `, a fuzz out-of-memory).
        if start >= 2 && in_subst[i] {
            return Err(ShellError(
                "a here-document operator (<<) followed by two or more blanks inside $(…) is not supported (the shell parser, brush-parser 0.4, does not end on it)".into(),
            ));
        }
        let word = &rest[start..];
        let missing = match word.first() {
            None => true,
            // A control character (CR, NUL, …) starts no word the tokenizer ends on.
            Some(&b) => b < 0x20 || b == 0x7f || b";&|()<>".contains(&b),
        };
        if missing || word.starts_with(b"\"\"") || word.starts_with(b"''") {
            return Err(ShellError(
                "a here-document operator (<<) without a delimiter word is not supported (the shell parser, brush-parser 0.4, does not end on some of these)".into(),
            ));
        }
        // The body starts at the end of the line: an expansion (`$(`, `${`, a backquote)
        // opened after the operator and still open there puts the body inside it, where the
        // tokenizer panics (fuzz crashes). `x=$(cat <<EOF` opens it before the operator. Each
        // opener is closed only by its own closer: in `$(${[}}` the second `}` closes nothing,
        // and the `$(` stays open (a fuzz crash).
        let line = word.split(|&c| c == b'\n').next().unwrap_or(&[]);
        let (mut open, mut ticks) = (Vec::new(), 0usize);
        for (k, &c) in line.iter().enumerate() {
            match c {
                b'(' => open.push(b')'),
                b'$' if line.get(k + 1) == Some(&b'{') => open.push(b'}'),
                b')' | b'}' if open.last() == Some(&c) => {
                    open.pop();
                }
                b'`' => ticks += 1,
                _ => {}
            }
        }
        if !open.is_empty() || ticks % 2 == 1 {
            return Err(ShellError(
                "an expansion left open on the line of a here-document operator (<<) is not supported (the shell parser, brush-parser 0.4, fails on it)".into(),
            ));
        }
    }
    Ok(())
}

/// Refuses a `[` in a word followed, before any `]`, by [`MAX_SUBSCRIPTS`] or more array
/// expansions (`${name[`): brush-parser 0.4 backtracks over each as a possible end of the
/// bracket pattern, about fifteen times slower per expansion (`H[a${A[T}${A[T}${A[T}${A[T}`
/// takes 0.2 s, one more 3 s; found by the `containerfile` fuzz target as a timeout). A
/// bracket test (`[ … ]`, with a blank after the `[`) and closed subscripts are left alone.
fn check_subscripts_in_brackets(text: &str) -> Result<(), ShellError> {
    let b = text.as_bytes();
    // From the end: how many `${name[` lie between each position and the next `]`.
    let mut ahead = 0usize;
    for i in (0..b.len()).rev() {
        match b[i] {
            b']' => ahead = 0,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                let name = b[i + 2..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                if name > 0 && b.get(i + 2 + name) == Some(&b'[') {
                    ahead += 1;
                }
            }
            b'[' if ahead >= MAX_SUBSCRIPTS
                && b.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) =>
            {
                return Err(ShellError(format!(
                    "a `[` followed by {ahead} array expansions (${{name[…) before any `]` is not supported (the shell parser, brush-parser 0.4, takes exponential time on it)"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// See [`check_subscripts_in_brackets`].
const MAX_SUBSCRIPTS: usize = 3;

/// A word that starts with a directory-stack tilde (`~2`, `~+3`, `~-1`): what it names is only
/// known when the shell runs. Such words never reach the word parser, which unwraps the number
/// and would panic on one that overflows (found by the `containerfile` fuzz target).
fn dir_stack_tilde(raw: &str) -> bool {
    let rest = raw.strip_prefix('~').unwrap_or("");
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    raw.starts_with('~') && rest.starts_with(|c: char| c.is_ascii_digit())
}

/// `-c SCRIPT` (with other single-letter flags before it, such as `-ec` or `-e -c`): the flags
/// and the script, when the script is known.
fn dash_c(args: &[Word]) -> Option<(String, &str)> {
    let mut flags = String::new();
    for (i, a) in args.iter().enumerate() {
        let a = a.lit()?;
        if let Some(f) = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
        {
            if f == "o" {
                continue;
            }
            flags.push_str(f);
            if f.contains('c') {
                return args.get(i + 1)?.lit().map(|s| (flags, s));
            }
        } else if !flags.is_empty() && matches!(a, "pipefail" | "errexit") {
            continue;
        } else {
            return None;
        }
    }
    None
}
