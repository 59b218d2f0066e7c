//! JUnit XML for CI systems: `run` as one test suite whose test cases are the suite's tests
//! (the one a violation names fails, skipped ones are skipped); `verify` as one test case per
//! matrix cell.

use super::escape;
use crate::explore::Verdict;
use crate::run::RunReport;
use crate::verify::{Cell, CellVerdict};

/// Marks files this tool wrote.
pub const MARKER: &str = "<!-- written by mountfuzz -->";

fn header(tests: usize, failures: usize, skipped: usize, seconds: f64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{MARKER}\n<testsuites name=\"mountfuzz\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">\n"
    )
}

/// A run as JUnit XML.
pub fn run(report: &RunReport) -> String {
    let c = &report.config;
    let o = &report.outcome;
    let failing = report.counterexample.as_ref().and_then(|cx| {
        cx.violation
            .as_ref()
            .map(|v| (cx.tests.get(v.test).cloned(), v, cx))
    });
    let failing_name = failing.as_ref().and_then(|(n, _, _)| n.clone());
    let mut cases = String::new();
    let (mut failures, mut skipped) = (0, 0);
    for t in &c.suite.tests {
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            escape(&c.suite.name),
            escape(&t.name)
        ));
        if report.skipped.contains(&t.name) {
            skipped += 1;
            cases.push_str("      <skipped message=\"skipped in this world (coverage lost)\"/>\n");
        } else if let Some(u) = &report.unsupported {
            skipped += 1;
            cases.push_str(&format!("      <skipped message=\"{}\"/>\n", escape(u)));
        } else if let Some(d) = report.deterministic.iter().find(|d| d.test == t.name) {
            failures += 1;
            cases.push_str(&format!(
                "      <failure type=\"{}\" message=\"deterministic failure (fails on its own): {}\">{}</failure>\n",
                d.violation.oracle,
                escape(&d.violation.message),
                escape(&super::text::swimlanes(&d.counterexample))
            ));
        } else if failing_name.as_deref() == Some(&t.name) {
            failures += 1;
            let (_, v, cx) = failing.as_ref().expect("named");
            cases.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                v.oracle,
                escape(&v.message),
                escape(&format!(
                    "{}\nschedule: {}",
                    super::text::swimlanes(cx),
                    cx.schedule
                ))
            ));
        }
        cases.push_str("    </testcase>\n");
    }
    if let (Verdict::Unknown(why), None) = (&o.verdict, &report.unsupported) {
        failures += 1;
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"exploration\">\n      <failure type=\"unknown\" message=\"{}\"/>\n    </testcase>\n",
            escape(&c.suite.name),
            escape(why)
        ));
    }
    let n = c.suite.tests.len()
        + usize::from(matches!(o.verdict, Verdict::Unknown(_)) && report.unsupported.is_none());
    let mut out = header(n, failures, skipped, o.elapsed.as_secs_f64());
    out.push_str(&format!(
        "  <testsuite name=\"{} [{}, {}, {}]\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
        escape(&c.suite.name),
        c.profile.engine,
        c.world.topology,
        c.world.remedy,
        o.elapsed.as_secs_f64()
    ));
    out.push_str(&format!(
        "    <properties>\n      <property name=\"schedules\" value=\"{}\"/>\n      <property name=\"steps\" value=\"{}\"/>\n      <property name=\"strategy\" value=\"{}\"/>\n      <property name=\"seed\" value=\"{}\"/>\n      <property name=\"verdict\" value=\"{}\"/>\n      <property name=\"proof\" value=\"{}\"/>\n    </properties>\n",
        o.schedules,
        o.steps,
        c.strategy,
        c.options.seed,
        report.verdict_name(),
        super::json::proof_name(&o.verdict)
    ));
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// A verify matrix as JUnit XML: a test case per cell.
pub fn verify(suite: &str, cells: &[Cell]) -> String {
    let failures = cells
        .iter()
        .filter(|c| matches!(c.verdict, CellVerdict::Violated | CellVerdict::Unknown))
        .count();
    let skipped = cells
        .iter()
        .filter(|c| c.verdict == CellVerdict::Unsupported)
        .count();
    let mut out = header(cells.len(), failures, skipped, 0.0);
    out.push_str(&format!(
        "  <testsuite name=\"verify {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        escape(suite),
        cells.len()
    ));
    for c in cells {
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{} sharing={} remedy={}\">\n",
            escape(suite),
            c.engine,
            c.sharing,
            c.remedy
        ));
        let body = format!(
            "{} schedules, {} distinct states: {}",
            c.schedules, c.distinct_states, c.reason
        );
        match c.verdict {
            CellVerdict::Holds | CellVerdict::Vacuous => {
                let proof = c.proof.map_or("none", |p| p.name());
                out.push_str(&format!(
                    "      <system-out>{} (proof: {proof}): {}</system-out>\n",
                    c.verdict.name(),
                    escape(&body)
                ));
            }
            CellVerdict::Violated | CellVerdict::Unknown => out.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\"/>\n",
                c.verdict.name(),
                escape(&body)
            )),
            CellVerdict::Unsupported => {
                out.push_str(&format!(
                    "      <skipped message=\"{}\"/>\n",
                    escape(&c.reason)
                ));
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
