//! Variable expansion in Dockerfile instructions, as BuildKit's shell lexer does it
//! (frontend/dockerfile/shell/lex.go): `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`,
//! `${V:?msg}`, `${V?msg}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`
//! (patterns with `*` and `?`). A variable the Dockerfile does not set expands to nothing (the
//! base image's ENV is not known here); each such name is recorded so a report can say so.

use std::collections::{BTreeMap, BTreeSet};

/// Expands `s` with `vars`; `\$` (with the escape character) is a literal `$`. With `quotes`,
/// single quotes keep their text literal and double quotes group, and both are removed (how
/// BuildKit processes ENV, ARG and WORKDIR words and mount option values). Names that were not
/// set are added to `unset`.
pub fn expand(
    s: &str,
    vars: &BTreeMap<String, String>,
    esc: char,
    quotes: bool,
    unset: &mut BTreeSet<String>,
) -> Result<String, String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut dq = false;
    while i < c.len() {
        let ch = c[i];
        // Inside double quotes the escape character escapes only `"`, `$` and itself
        // (BuildKit's processDoubleQuote); outside, any character.
        if ch == esc
            && i + 1 < c.len()
            && (c[i + 1] == '$' || quotes && (!dq || c[i + 1] == '"' || c[i + 1] == esc))
        {
            out.push(c[i + 1]);
            i += 2;
            continue;
        }
        if quotes && ch == '\'' && !dq {
            let end = c[i + 1..]
                .iter()
                .position(|&x| x == '\'')
                .ok_or_else(|| format!("unterminated ' in {s:?}"))?;
            out.extend(&c[i + 1..i + 1 + end]);
            i += end + 2;
            continue;
        }
        if quotes && ch == '"' {
            dq = !dq;
            i += 1;
            continue;
        }
        if ch == '$' && c.get(i + 1) == Some(&'{') {
            let mut depth = 1;
            let mut j = i + 2;
            while j < c.len() && depth > 0 {
                match c[j] {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                return Err(format!("unterminated ${{ in {s:?}"));
            }
            let inner: String = c[i + 2..j - 1].iter().collect();
            out.push_str(&braced(&inner, vars, esc, unset, s)?);
            i = j;
            continue;
        }
        if ch == '$'
            && c.get(i + 1)
                .is_some_and(|x| x.is_ascii_alphabetic() || *x == '_')
        {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            let name: String = c[i + 1..j].iter().collect();
            out.push_str(&lookup(&name, vars, unset));
            i = j;
            continue;
        }
        out.push(ch);
        i += 1;
    }
    if dq {
        return Err(format!("unterminated \" in {s:?}"));
    }
    Ok(out)
}

fn lookup(name: &str, vars: &BTreeMap<String, String>, unset: &mut BTreeSet<String>) -> String {
    match vars.get(name) {
        Some(v) => v.clone(),
        None => {
            unset.insert(name.to_string());
            String::new()
        }
    }
}

fn braced(
    inner: &str,
    vars: &BTreeMap<String, String>,
    esc: char,
    unset: &mut BTreeSet<String>,
    whole: &str,
) -> Result<String, String> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_end);
    if !valid_name(name) {
        return Err(format!("bad variable name {name:?} in {whole:?}"));
    }
    let val = vars.get(name);
    let word = |w: &str, unset: &mut BTreeSet<String>| expand(w, vars, esc, false, unset);
    if op.is_empty() {
        return Ok(lookup(name, vars, unset));
    }
    if val.is_none() {
        unset.insert(name.to_string());
    }
    let set_nonempty = val.is_some_and(|v| !v.is_empty());
    let value = || val.cloned().unwrap_or_default();
    for (p, colon) in [(":-", true), ("-", false)] {
        if let Some(w) = op.strip_prefix(p) {
            let use_val = if colon { set_nonempty } else { val.is_some() };
            return if use_val { Ok(value()) } else { word(w, unset) };
        }
    }
    for (p, colon) in [(":+", true), ("+", false)] {
        if let Some(w) = op.strip_prefix(p) {
            let use_alt = if colon { set_nonempty } else { val.is_some() };
            return if use_alt {
                word(w, unset)
            } else {
                Ok(String::new())
            };
        }
    }
    for (p, colon) in [(":?", true), ("?", false)] {
        if let Some(w) = op.strip_prefix(p) {
            let ok = if colon { set_nonempty } else { val.is_some() };
            return if ok {
                Ok(value())
            } else {
                Err(format!(
                    "{name}: {}",
                    if w.is_empty() {
                        "is not allowed to be unset"
                    } else {
                        w
                    }
                ))
            };
        }
    }
    let v = value();
    if let Some(p) = op.strip_prefix("##") {
        let p = word(p, unset)?;
        return Ok(strip_prefix(&v, &p, true));
    }
    if let Some(p) = op.strip_prefix('#') {
        let p = word(p, unset)?;
        return Ok(strip_prefix(&v, &p, false));
    }
    if let Some(p) = op.strip_prefix("%%") {
        let p = word(p, unset)?;
        return Ok(strip_suffix(&v, &p, true));
    }
    if let Some(p) = op.strip_prefix('%') {
        let p = word(p, unset)?;
        return Ok(strip_suffix(&v, &p, false));
    }
    if let Some(rest) = op.strip_prefix('/') {
        let (all, rest) = match rest.strip_prefix('/') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (pat, rep) = rest.split_once('/').unwrap_or((rest, ""));
        let (pat, rep) = (word(pat, unset)?, word(rep, unset)?);
        return Ok(replace(&v, &pat, &rep, all));
    }
    Err(format!(
        "unsupported modifier {op:?} in ${{{inner}}} of {whole:?}"
    ))
}

/// Whether `n` is a variable name.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with(|c: char| c.is_ascii_digit())
}

/// Glob match of all of `s` against `p` (`*`, `?`, the rest literal).
fn matches(s: &[char], p: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|k| matches(&s[k..], rest)),
        Some(('?', rest)) => !s.is_empty() && matches(&s[1..], rest),
        Some((c, rest)) => s.first() == Some(c) && matches(&s[1..], rest),
    }
}

fn strip_prefix(v: &str, p: &str, longest: bool) -> String {
    let (s, p): (Vec<char>, Vec<char>) = (v.chars().collect(), p.chars().collect());
    let mut ks: Vec<usize> = (0..=s.len()).collect();
    if longest {
        ks.reverse();
    }
    for k in ks {
        if matches(&s[..k], &p) {
            return s[k..].iter().collect();
        }
    }
    v.to_string()
}

fn strip_suffix(v: &str, p: &str, longest: bool) -> String {
    let (s, p): (Vec<char>, Vec<char>) = (v.chars().collect(), p.chars().collect());
    let mut ks: Vec<usize> = (0..=s.len()).rev().collect();
    if longest {
        ks.reverse();
    }
    for k in ks {
        if matches(&s[k..], &p) {
            return s[..k].iter().collect();
        }
    }
    v.to_string()
}

fn replace(v: &str, pat: &str, rep: &str, all: bool) -> String {
    let (s, p): (Vec<char>, Vec<char>) = (v.chars().collect(), pat.chars().collect());
    if p.is_empty() {
        return v.to_string();
    }
    let mut out = String::new();
    let mut i = 0;
    let mut done = false;
    while i < s.len() {
        if !done {
            // The longest match starting here.
            if let Some(k) = (i + 1..=s.len()).rev().find(|&k| matches(&s[i..k], &p)) {
                out.push_str(rep);
                i = k;
                done = !all;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(s: &str) -> String {
        let vars = BTreeMap::from([
            ("V".to_string(), "/usr/local/cargo/registry".to_string()),
            ("E".to_string(), String::new()),
        ]);
        expand(s, &vars, '\\', false, &mut BTreeSet::new()).unwrap()
    }

    #[test]
    fn every_modifier() {
        assert_eq!(x("${V#*/}"), "usr/local/cargo/registry");
        assert_eq!(x("${V##*/}"), "registry");
        assert_eq!(x("${V%/*}"), "/usr/local/cargo");
        assert_eq!(x("${V%%/c*}"), "/usr/local");
        assert_eq!(x("${V/cargo/rust}"), "/usr/local/rust/registry");
        assert_eq!(x("${V//r/R}"), "/usR/local/caRgo/RegistRy");
        assert_eq!(x("${E:-d}|${E-d}|${U-d}"), "d||d");
        assert_eq!(x("${E:+a}|${E+a}|${V:+a}"), "|a|a");
        assert_eq!(x("\\$V"), "$V");
    }
}
