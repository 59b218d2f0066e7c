//! The Dockerfile's lines as BuildKit's parser reads them (frontend/dockerfile/parser): a byte
//! order mark and CRLF line ends are dropped; parser directives (`# syntax=`, `# escape=`,
//! `# check=`) are read only before the first other line; a line ending in the escape
//! character continues on the next, and comment and empty lines inside a continuation are
//! skipped; `<<EOF`, `<<-EOF` and quoted delimiters on RUN, COPY and ADD open here-documents
//! whose bodies follow the instruction.

use super::ContainerfileError;

/// A here-document of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (quotes removed).
    pub name: String,
    /// The body, without the delimiter line (leading tabs removed for `<<-`).
    pub content: String,
    /// The delimiter was unquoted: the shell expands the body.
    pub expand: bool,
    /// `<<-`.
    pub strip_tabs: bool,
}

/// One instruction: its keyword, the rest of its (joined) line, and its here-documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where it starts.
    pub line: usize,
    /// Upper-cased keyword.
    pub keyword: String,
    /// Everything after the keyword, continuations joined.
    pub rest: String,
    /// Here-documents, in the order their delimiters appear.
    pub heredocs: Vec<Heredoc>,
}

/// The parser directives found at the top.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=`.
    pub syntax: Option<String>,
    /// `# escape=` (`\` unless set to `` ` ``).
    pub escape: char,
    /// `# check=`.
    pub check: Option<String>,
}

/// The instructions of `text`, with its directives.
pub fn instructions(text: &str) -> Result<(Directives, Vec<Instruction>), ContainerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut d = Directives {
        escape: '\\',
        ..Directives::default()
    };
    let mut i = 0;
    // Directives: `# key=value` lines at the very top.
    while i < lines.len() {
        let Some((k, v)) = directive(lines[i]) else {
            break;
        };
        let e = |problem: String| ContainerfileError {
            line: i + 1,
            problem,
        };
        match k.as_str() {
            "syntax" => set_once(&mut d.syntax, v, "syntax").map_err(e)?,
            "check" => set_once(&mut d.check, v, "check").map_err(e)?,
            "escape" => match v.as_str() {
                "\\" => d.escape = '\\',
                "`" => d.escape = '`',
                _ => return Err(e(format!("invalid escape token {v:?}: must be ` or \\"))),
            },
            // An unknown directive is a comment (BuildKit ignores it).
            _ => {}
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        loop {
            let l = lines[i];
            let trimmed = l.trim_end();
            i += 1;
            // BuildKit's continuation: the escape character at the end, not itself escaped
            // (`\\` at the end is a backslash), or alone on its line.
            let continues = trimmed
                .strip_suffix(d.escape)
                .filter(|body| body.is_empty() || !body.ends_with(d.escape));
            match continues {
                Some(body) => {
                    joined.push_str(body);
                    // Skip comment and empty lines inside the continuation.
                    while i < lines.len() && {
                        let n = lines[i].trim();
                        n.is_empty() || n.starts_with('#')
                    } {
                        i += 1;
                    }
                    if i >= lines.len() {
                        break;
                    }
                }
                _ => {
                    joined.push_str(trimmed);
                    break;
                }
            }
        }
        let joined = joined.trim().to_string();
        let (kw, rest) = joined
            .split_once(char::is_whitespace)
            .map_or((joined.as_str(), ""), |(k, r)| (k, r.trim_start()));
        let keyword = kw.to_ascii_uppercase();
        let mut heredocs = Vec::new();
        let carries = matches!(keyword.as_str(), "RUN" | "COPY" | "ADD")
            || (keyword == "ONBUILD"
                && rest.split_whitespace().next().is_some_and(|k| {
                    matches!(k.to_ascii_uppercase().as_str(), "RUN" | "COPY" | "ADD")
                }));
        if carries {
            for (name, expand, strip_tabs) in heredoc_openers(rest) {
                let mut content = String::new();
                let mut closed = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let cmp = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if cmp == name {
                        closed = true;
                        break;
                    }
                    content.push_str(cmp);
                    content.push('\n');
                }
                if !closed {
                    return Err(ContainerfileError {
                        line: start + 1,
                        problem: format!("here-document <<{name} has no closing {name:?} line"),
                    });
                }
                heredocs.push(Heredoc {
                    name,
                    content,
                    expand,
                    strip_tabs,
                });
            }
        }
        out.push(Instruction {
            line: start + 1,
            keyword,
            rest: rest.to_string(),
            heredocs,
        });
    }
    Ok((d, out))
}

fn set_once(slot: &mut Option<String>, v: String, name: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("the {name} directive appears twice"));
    }
    *slot = Some(v);
    Ok(())
}

/// `# key=value` (BuildKit: `^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start_matches([' ', '\t']);
    let (k, v) = rest.split_once('=')?;
    let k = k.trim_end_matches([' ', '\t']);
    if k.is_empty()
        || !k.starts_with(|c: char| c.is_ascii_alphabetic())
        || !k.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let v = v.trim_matches([' ', '\t']);
    if v.is_empty() {
        return None;
    }
    Some((k.to_ascii_lowercase(), v.to_string()))
}

/// The here-documents a line opens: `<<WORD`, `<<-WORD`, `<<"WORD"`, `<<'WORD'`, outside quotes.
/// `<<<` (a here-string) opens none.
pub fn heredoc_openers(line: &str) -> Vec<(String, bool, bool)> {
    let b: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '\\' => i += 1,
            None if c == '<'
                && b.get(i + 1) == Some(&'<')
                && b.get(i + 2) != Some(&'<')
                && (i == 0 || b[i - 1] != '<') =>
            {
                let mut j = i + 2;
                let strip = b.get(j) == Some(&'-');
                if strip {
                    j += 1;
                }
                let q = b.get(j).copied().filter(|c| *c == '"' || *c == '\'');
                if q.is_some() {
                    j += 1;
                }
                let s = j;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric() || b[j] == '_' || b[j] == '-' || b[j] == '.')
                {
                    j += 1;
                }
                // An unquoted delimiter starts with a letter or `_` (`$((1<<2))` is a shift).
                let word_start = b
                    .get(s)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_');
                if j > s && (q.is_some() || word_start) {
                    let name: String = b[s..j].iter().collect();
                    if let Some(qc) = q
                        && b.get(j) == Some(&qc)
                    {
                        j += 1;
                    }
                    out.push((name, q.is_none(), strip));
                    i = j;
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    out
}
