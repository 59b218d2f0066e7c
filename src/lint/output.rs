//! The lint's output formats: `tty` (hadolint's `file:line RULE level: message`), `json`,
//! `sarif` (SARIF 2.1.0 through serde-sarif, for GitHub code scanning) and `checkstyle` (XML).
//! Each says what every exploration showed, so a clean file never reads as more than was shown.

use serde_json::json;
use serde_sarif::sarif;

use super::{FileReport, Finding, RULES};
use crate::report::escape;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    Tty,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// Checkstyle XML.
    Checkstyle,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tty" => Ok(Format::Tty),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "checkstyle" => Ok(Format::Checkstyle),
            _ => Err(format!(
                "unknown format {s:?} (want tty, json, sarif or checkstyle)"
            )),
        }
    }
}

/// Renders `reports` in `format`.
pub fn render(reports: &[FileReport], format: Format) -> String {
    match format {
        Format::Tty => tty(reports),
        Format::Json => serde_json::to_string_pretty(&to_json(reports)).expect("JSON") + "\n",
        Format::Sarif => {
            serde_json::to_string_pretty(&to_sarif(reports)).expect("SARIF is JSON") + "\n"
        }
        Format::Checkstyle => checkstyle(reports),
    }
}

fn engines(f: &Finding) -> String {
    f.engines
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn tty(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            out.push_str(&format!(
                "{}:{} {} {}: {} [{}]\n",
                f.file,
                f.line,
                f.rule.id,
                f.rule.severity.name(),
                f.message,
                engines(f)
            ));
            if let Some(m) = f.mount_line {
                out.push_str(&format!("  the mount: {}:{m}\n", f.file));
            }
            out.push_str(&format!("  fix: {}\n", f.rule.fix));
            if let Some(x) = &f.explain {
                for l in x.lines() {
                    out.push_str(&format!("  {l}\n"));
                }
            }
        }
        for c in &r.coverage {
            let rest = match (c.verdict.as_str(), c.proof.as_str()) {
                ("holds", "exhaustive-by-group") => {
                    "exhaustive proof, cache group by cache group".to_string()
                }
                ("holds", p) => format!("{p} proof"),
                ("not-found", _) => "none found in a bounded search, not a proof".to_string(),
                (v, _) => v.to_string(),
            };
            let what = if c.verdict == "unsupported" {
                "not explored".to_string()
            } else if c.found.is_empty() {
                format!("no hazard: {rest}")
            } else {
                format!("found {}; no other hazard: {rest}", c.found.join(", "))
            };
            out.push_str(&format!(
                "{}: {} ({}): {what}, {} execution(s){}\n",
                r.file,
                c.engine,
                c.setting,
                c.executions,
                c.detail
                    .as_ref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ));
        }
        for n in &r.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        if r.ignored > 0 {
            out.push_str(&format!(
                "{}: {} finding(s) ignored by rule\n",
                r.file, r.ignored
            ));
        }
    }
    let n: usize = reports.iter().map(|r| r.findings.len()).sum();
    out.push_str(&format!("{n} finding(s) in {} file(s)\n", reports.len()));
    out
}

fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
        "file": f.file,
        "line": f.line,
        "column": 1,
        "mount_line": f.mount_line,
        "code": f.rule.id,
        "rule": f.rule.name,
        "level": f.rule.severity.name(),
        "message": f.message,
        "engines": f.engines.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "fix": f.rule.fix,
        "explain": f.explain,
    })
}

/// The `json` form: `{"findings": […], "files": [{file, coverage, notes, ignored}]}`.
pub fn to_json(reports: &[FileReport]) -> serde_json::Value {
    json!({
        "findings": reports.iter().flat_map(|r| &r.findings).map(finding_json).collect::<Vec<_>>(),
        "files": reports.iter().map(|r| json!({
            "file": r.file,
            "coverage": r.coverage.iter().map(|c| json!({
                "engine": c.engine.to_string(),
                "setting": c.setting,
                "found": c.found,
                "verdict": c.verdict,
                "proof": c.proof,
                "executions": c.executions,
                "detail": c.detail,
            })).collect::<Vec<_>>(),
            "notes": r.notes,
            "ignored": r.ignored,
        })).collect::<Vec<_>>(),
    })
}

fn text(s: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder()
        .text(s.to_string())
        .build()
}

/// The `sarif` form: one run, every rule in `tool.driver.rules`, one result per finding with
/// its `ruleId`, level and `region.startLine`.
pub fn to_sarif(reports: &[FileReport]) -> sarif::Sarif {
    let rules: Vec<sarif::ReportingDescriptor> = RULES
        .iter()
        .map(|r| {
            sarif::ReportingDescriptor::builder()
                .id(r.id.to_string())
                .name(r.name.to_string())
                .short_description(text(r.title))
                .full_description(text(&format!(
                    "{} Engines: {}. Fix: {}.",
                    r.description, r.engines, r.fix
                )))
                .help_uri(r.source.to_string())
                .help(text(&format!("Fix: {}. Source: {}", r.fix, r.source)))
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(json!(r.severity.sarif_level()))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = reports
        .iter()
        .flat_map(|r| &r.findings)
        .map(|f| {
            let region = sarif::Region::builder().start_line(f.line as i64).build();
            let physical = sarif::PhysicalLocation::builder()
                .artifact_location(
                    sarif::ArtifactLocation::builder()
                        .uri(f.file.clone())
                        .build(),
                )
                .region(region)
                .build();
            let index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or(0);
            sarif::Result::builder()
                .rule_id(f.rule.id.to_string())
                .rule_index(index as i64)
                .level(sarif::ResultLevel::from(f.rule.severity))
                .message(
                    sarif::Message::builder()
                        .text(format!(
                            "{} [{}]. Fix: {}.",
                            f.message,
                            engines(f),
                            f.rule.fix
                        ))
                        .build(),
                )
                .locations(vec![
                    sarif::Location::builder()
                        .physical_location(physical)
                        .build(),
                ])
                .build()
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("mountfuzz".to_string())
        .version(env!("CARGO_PKG_VERSION").to_string())
        .information_uri("https://github.com/containers/podman/issues/25414".to_string())
        .rules(rules)
        .build();
    sarif::Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json".to_string())
        .version(json!("2.1.0"))
        .runs(vec![
            sarif::Run::builder()
                .tool(sarif::Tool::builder().driver(driver).build())
                .results(results)
                .build(),
        ])
        .build()
}

impl From<super::Severity> for sarif::ResultLevel {
    fn from(s: super::Severity) -> Self {
        match s.sarif_level() {
            "error" => sarif::ResultLevel::Error,
            "warning" => sarif::ResultLevel::Warning,
            _ => sarif::ResultLevel::Note,
        }
    }
}

fn checkstyle(reports: &[FileReport]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- mountfuzz lint -->\n<checkstyle version=\"4.3\">\n",
    );
    for r in reports {
        out.push_str(&format!("  <file name=\"{}\">\n", escape(&r.file)));
        for f in &r.findings {
            out.push_str(&format!(
                "    <error line=\"{}\" column=\"1\" severity=\"{}\" message=\"{}\" source=\"mountfuzz.{}\"/>\n",
                f.line,
                match f.rule.severity {
                    super::Severity::Error => "error",
                    super::Severity::Warning => "warning",
                    _ => "info",
                },
                escape(&format!("{} [{}]. Fix: {}.", f.message, engines(f), f.rule.fix)),
                f.rule.id
            ));
        }
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}
