//! `mountfuzz lint`: cache-mount hazards in Dockerfiles, found the way a CI meets them. Each file
//! is read, its static facts are checked ([`statics`]), and then N parallel copies of its build
//! (plus, on BuildKit, each pair of stages the build runs at once) are explored with the model
//! per engine profile. Every violation becomes a finding of a rule ([`rules`]) at the RUN's line;
//! every exploration says what it showed (an exhaustive or static proof, a bounded search that
//! found nothing, or a cut budget). Suites (`.toml`) and shell scripts are linted for the
//! TMPDIR isolation that a remote build loses ([`script`]).
//!
//! Data flow: `containerfile` → `scenario::import` → `run` (the explorer) → findings → `output`.

pub mod config;
pub mod groups;
pub mod output;
pub mod rules;
pub mod script;
pub mod statics;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::check::{Intent, Oracle, Oracles};
use crate::containerfile;
use crate::engine::{Engine, Profile};
use crate::explore::{Budget, Options as ExploreOptions, Strategy};
use crate::mount::Dialect;
use crate::run::{RunConfig, RunReport, run};
use crate::scenario::import::{RunReport as RunInfo, build_of};
use crate::scenario::{Build, RunStep, Step, Suite, TestCase};
use crate::world::{Remedy, Topology, World};

pub use rules::{RULES, Rule, Severity, Threshold};

/// What `lint` checks and how hard.
#[derive(Clone, Debug)]
pub struct Options {
    /// Engine profiles (default: every released one, [`Engine::RELEASED`]).
    pub engines: Vec<Engine>,
    /// Parallel copies of each build (a CI running N jobs on one host or daemon).
    pub copies: usize,
    /// Builds also go through podman-remote (Buildah profiles): the podman#25414 setting.
    pub remote: bool,
    /// Also explore a prune beside the builds (`buildah prune`; BuildKit's reset of unheld caches).
    pub prune: bool,
    /// Seconds of exploration per file, engine and setting.
    pub seconds: f64,
    /// Rules not reported.
    pub ignore: Vec<String>,
    /// Keep each finding's counterexample as a swimlane (`--explain`).
    pub explain: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            engines: Engine::RELEASED.to_vec(),
            copies: 2,
            remote: false,
            prune: false,
            seconds: 5.0,
            ignore: Vec::new(),
            explain: false,
        }
    }
}

/// A hazard found in a file.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// The file.
    pub file: String,
    /// 1-based line of the RUN (or of the script's command).
    pub line: usize,
    /// 1-based line of the `--mount` flag, when it is on a line of its own.
    pub mount_line: Option<usize>,
    /// The engines it applies to.
    pub engines: Vec<Engine>,
    /// What was found, in words.
    pub message: String,
    /// The counterexample as a swimlane, with `--explain` (explored findings only).
    pub explain: Option<String>,
}

/// What one exploration showed.
#[derive(Clone, Debug)]
pub struct Coverage {
    /// The engine.
    pub engine: Engine,
    /// What ran: `2 copies, local`, `stages a and b at once`, …
    pub setting: String,
    /// The rules this setting's searches found, in order; each search after the first ran with
    /// the oracles of the earlier findings set aside.
    pub found: Vec<&'static str>,
    /// The verdict of the last search (over the oracles not set aside): holds, violated,
    /// not-found, unknown, vacuous, unsupported.
    pub verdict: String,
    /// `exhaustive`, `static` or `none`.
    pub proof: String,
    /// Executions explored, over every search of this setting.
    pub executions: u64,
    /// The reason behind an unknown, vacuous or unsupported verdict.
    pub detail: Option<String>,
}

/// The lint of one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file.
    pub file: String,
    /// Findings, by line.
    pub findings: Vec<Finding>,
    /// What each exploration showed.
    pub coverage: Vec<Coverage>,
    /// What the model does not cover of this file, and commands it models only conservatively.
    pub notes: Vec<String>,
    /// Findings silenced by an inline `# mountfuzz ignore=` or by `ignore`.
    pub ignored: usize,
}

impl FileReport {
    /// An empty report for `file`.
    pub fn new(file: &str) -> FileReport {
        FileReport {
            file: file.to_string(),
            findings: Vec::new(),
            coverage: Vec::new(),
            notes: Vec::new(),
            ignored: 0,
        }
    }

    /// Whether every exploration ended in a proof (exhaustive or static) of what it did not
    /// find.
    pub fn proved(&self) -> bool {
        self.coverage.iter().all(|c| c.proof != "none")
    }
}

/// Input that cannot be linted: file:line and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadInput {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

/// What kind of file a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A mountfuzz suite (`.toml`).
    Suite,
    /// A shell or bats script that runs builds.
    Script,
}

impl Kind {
    /// By the file name: `.toml` is a suite; `.sh`, `.bash` and `.bats` are scripts; anything
    /// else is a Dockerfile.
    pub fn of(name: &str) -> Kind {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".toml") {
            Kind::Suite
        } else if [".sh", ".bash", ".bats"].iter().any(|e| lower.ends_with(e)) {
            Kind::Script
        } else {
            Kind::Dockerfile
        }
    }
}

/// Lints one file (`name` for messages, `text` its contents).
pub fn lint(name: &str, text: &str, opts: &Options) -> Result<FileReport, BadInput> {
    let mut report = match Kind::of(name) {
        Kind::Dockerfile => dockerfile(name, text, opts)?,
        Kind::Suite => suite(name, text, opts)?,
        Kind::Script => script::check(name, text, opts)?,
    };
    let before = report.findings.len();
    report.findings.retain(|f| {
        !opts.ignore.iter().any(|r| r == f.rule.id) && !inline_ignored(text, f.line, f.rule.id)
    });
    report.ignored = before - report.findings.len();
    report
        .findings
        .sort_by(|a, b| (a.line, a.rule.id).cmp(&(b.line, b.rule.id)));
    Ok(report)
}

/// Whether a `# mountfuzz ignore=RULE[,RULE]` comment right above `line` (other comment lines
/// between are allowed, as hadolint allows) names `rule`.
pub fn inline_ignored(text: &str, line: usize, rule: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = line.saturating_sub(1);
    while i > 0 {
        let l = lines.get(i - 1).map_or("", |l| l.trim());
        let Some(comment) = l.strip_prefix('#') else {
            return false;
        };
        if let Some(rest) = comment.trim().strip_prefix("mountfuzz")
            && let Some(list) = rest.trim().strip_prefix("ignore=")
            && list.split(',').any(|r| r.trim().eq_ignore_ascii_case(rule))
        {
            return true;
        }
        i -= 1;
    }
    false
}

/// The line of the `--mount` flag of a RUN at `run_line` that names `target`, when it is not
/// the RUN's own line (a continuation line).
fn mount_line(text: &str, run_line: usize, target: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut l = run_line;
    while l <= lines.len() {
        let s = lines[l - 1];
        if s.contains("--mount") && s.contains(target) {
            return (l != run_line).then_some(l);
        }
        if !s.trim_end().ends_with('\\') && l > run_line {
            break;
        }
        l += 1;
    }
    None
}

fn dockerfile(name: &str, text: &str, opts: &Options) -> Result<FileReport, BadInput> {
    // BuildKit's grammar is the reference: a file it cannot read is bad input.
    let cf = containerfile::read(text, Dialect::BuildKit, &BTreeMap::new(), None).map_err(|e| {
        BadInput {
            file: name.to_string(),
            line: Some(e.line),
            problem: e.problem,
        }
    })?;
    let mut report = FileReport::new(name);
    for s in statics::check(&cf, &opts.engines) {
        let rule = rules::rule(s.rule).expect("static rules are in RULES");
        report.findings.push(Finding {
            rule,
            file: name.to_string(),
            line: s.line,
            mount_line: None,
            engines: s.engines,
            message: s.message,
            explain: None,
        });
    }
    for &engine in &opts.engines {
        let (build, runs, notes) = match build_of(name, text, &BTreeMap::new(), engine.dialect()) {
            Ok(b) => b,
            Err(u) => {
                // The engine's grammar refused it (MF016, or MF003 for private), or mountfuzz's
                // shell reader could not read a RUN (`RUN (shell form)`, `RUN (exec form)`): that
                // is a limit of the model, named in the coverage, not a finding.
                let private = u.reason.contains("private");
                let ours = u.construct.starts_with("RUN (");
                if !private && !ours {
                    add(
                        &mut report,
                        Finding {
                            rule: rules::rule("MF016").expect("MF016"),
                            file: name.to_string(),
                            line: u.line,
                            mount_line: None,
                            engines: vec![engine],
                            message: format!("{} {}: {}", engine, u.construct, u.reason),
                            explain: None,
                        },
                    );
                }
                report.coverage.push(Coverage {
                    engine,
                    setting: "not explored".into(),
                    found: Vec::new(),
                    verdict: "unsupported".into(),
                    proof: "none".into(),
                    executions: 0,
                    detail: Some(format!("{}:{}: {}", u.file, u.line, u.reason)),
                });
                continue;
            }
        };
        for n in notes {
            if !n.contains("do not need each other") && !report.notes.contains(&n) {
                report.notes.push(n);
            }
        }
        for r in &runs {
            for c in &r.commands {
                if c.model == "opaque" {
                    let n = format!(
                        "{}:{}: `{}` is modelled as opaque (it may read and write anything under its RUN's caches)",
                        r.file, r.line, c.text
                    );
                    if !report.notes.contains(&n) {
                        report.notes.push(n);
                    }
                }
            }
        }
        if build.runs.is_empty() {
            report.coverage.push(Coverage {
                engine,
                setting: format!("{} copies", opts.copies),
                found: Vec::new(),
                verdict: "vacuous".into(),
                proof: "none".into(),
                executions: 0,
                detail: Some("no RUN with a cache mount".into()),
            });
            continue;
        }
        let mut settings = vec![(Topology::Local, false)];
        if opts.prune {
            settings.push((Topology::Local, true));
        }
        if opts.remote && matches!(engine, Engine::Buildah(_)) {
            settings.push((Topology::Remote, false));
        }
        for (topology, prune) in settings {
            let suite = copies(name, &build, opts.copies, prune);
            let setting = format!(
                "{} copies, {}{}",
                opts.copies,
                match topology {
                    Topology::Local => "local",
                    Topology::Remote => "remote",
                },
                if prune { ", with a prune" } else { "" }
            );
            explore(
                &mut report,
                Target {
                    name,
                    text,
                    runs: &runs,
                    steps: &build.runs,
                    lanes: (0..opts.copies)
                        .map(|_| (0..runs.len()).collect())
                        .collect(),
                },
                suite,
                engine,
                topology,
                setting,
                Intent::SharedCache.oracles(),
                opts,
                groups::split(&build.runs, engine, prune).map(|groups| Split {
                    groups,
                    build: &build,
                    copies: opts.copies,
                }),
            );
        }
        if engine == Engine::BuildKit {
            parallel_stages(&mut report, &cf, name, text, &build, &runs, opts);
        }
    }
    Ok(report)
}

/// `copies` parallel builds of `build`, each its own test, plus a prune beside them.
fn copies(name: &str, build: &Build, copies: usize, prune: bool) -> Suite {
    let mut tests: Vec<TestCase> = (1..=copies)
        .map(|i| TestCase {
            name: format!("build-{i}"),
            steps: vec![Step::Build(build.clone())],
        })
        .collect();
    if prune {
        tests.push(TestCase {
            name: "prune".into(),
            steps: vec![Step::Prune {
                env: BTreeMap::new(),
            }],
        });
    }
    Suite {
        name: name.to_string(),
        tests,
    }
}

/// On BuildKit, stages that do not need each other run at once: each such pair is explored as
/// two tests, the RUNs of one stage each. A stage reads what the stages it needs left in a
/// cache, which these two tests do not model, so the expectation oracle is off here: the pair
/// checks contention, lost updates, locks and deadlock.
fn parallel_stages(
    report: &mut FileReport,
    cf: &containerfile::Containerfile,
    name: &str,
    text: &str,
    build: &Build,
    runs: &[RunInfo],
    opts: &Options,
) {
    let stage_name = |s: usize| cf.stages[s].name.clone().unwrap_or_else(|| s.to_string());
    for (a, b) in cf.parallel_stages() {
        let (na, nb) = (stage_name(a), stage_name(b));
        let of =
            |n: &str| -> Vec<usize> { (0..runs.len()).filter(|&i| runs[i].stage == n).collect() };
        let (ra, rb) = (of(&na), of(&nb));
        if ra.is_empty() || rb.is_empty() {
            continue;
        }
        let part = |idx: &[usize]| Build {
            runs: idx.iter().map(|&i| build.runs[i].clone()).collect(),
            source: None,
            ..build.clone()
        };
        let suite = Suite {
            name: name.to_string(),
            tests: vec![
                TestCase {
                    name: format!("stage-{na}"),
                    steps: vec![Step::Build(part(&ra))],
                },
                TestCase {
                    name: format!("stage-{nb}"),
                    steps: vec![Step::Build(part(&rb))],
                },
            ],
        };
        let oracles: Vec<Oracle> = Oracle::ALL
            .into_iter()
            .filter(|o| !matches!(o, Oracle::Isolation | Oracle::Expectation))
            .collect();
        explore(
            report,
            Target {
                name,
                text,
                runs,
                steps: &build.runs,
                lanes: vec![ra, rb],
            },
            suite,
            Engine::BuildKit,
            Topology::Local,
            format!("stages {na} and {nb} at once"),
            Oracles::of(&oracles),
            opts,
            None,
        );
    }
}

/// The file behind an exploration: its RUNs, and per test of the suite which of them it runs.
struct Target<'a> {
    name: &'a str,
    text: &'a str,
    runs: &'a [RunInfo],
    steps: &'a [RunStep],
    lanes: Vec<Vec<usize>>,
}

/// Explores `suite` on `engine`, once per violation: each violation found becomes a finding,
/// its oracle is set aside, and the search runs again until nothing more is found. The last
/// search's verdict is the coverage.
#[allow(clippy::too_many_arguments)]
fn explore(
    report: &mut FileReport,
    target: Target<'_>,
    suite: Suite,
    engine: Engine,
    topology: Topology,
    setting: String,
    mut oracles: Oracles,
    opts: &Options,
    split: Option<Split<'_>>,
) {
    let mut executions = 0;
    let mut found = Vec::new();
    // With cache groups, each group is proved on its own first ([`groups`]); a group that finds
    // a violation (or runs out of time) sends the search to the whole build, where every
    // finding comes from. `unconfirmed` keeps a group's violation until the whole confirms it.
    let mut try_groups = split.is_some();
    let mut unconfirmed: Option<(Finding, Oracle)> = None;
    // Exhaustive first, with half the time; if that budget cuts it, PCT (depth 3) samples with
    // the other half, and the verdict says it is a bounded search.
    let mut strategy = Strategy::Dfs { por: true };
    let mut cut: Option<String> = None;
    loop {
        if let (true, Some(sp)) = (try_groups, &split) {
            match by_group(sp, &target, engine, topology, oracles, opts) {
                GroupResult::Hold(n) => {
                    executions += n;
                    report.coverage.push(Coverage {
                        engine,
                        setting,
                        found,
                        verdict: "holds".into(),
                        proof: "exhaustive-by-group".into(),
                        executions,
                        detail: Some(format!(
                            "{} cache groups that share no cache (RUNs at lines {}), each explored exhaustively",
                            sp.groups.len(),
                            sp.groups
                                .iter()
                                .map(|g| g
                                    .iter()
                                    .map(|&i| target.runs[i].line.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", "))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        )),
                    });
                    return;
                }
                GroupResult::Found(n, hit) => {
                    executions += n;
                    unconfirmed = Some(hit);
                }
                GroupResult::Cut(n) => {
                    executions += n;
                    try_groups = false;
                }
            }
        }
        let config = RunConfig {
            suite: suite.clone(),
            profile: Profile::new(engine),
            world: lint_world(topology),
            sharing: None,
            strategy,
            budget: Budget::new(u64::MAX, opts.seconds / 2.0),
            options: ExploreOptions {
                oracles,
                ..ExploreOptions::default()
            },
            shrink_time: Duration::from_millis(if opts.explain { 1000 } else { 0 }),
        };
        let rep = match run(config) {
            Ok(r) => r,
            Err(e) => {
                // The engine refuses a mount when it locates it (a relative target on 1.28).
                if let Some(r) = target
                    .runs
                    .iter()
                    .find(|r| r.mounts.iter().any(|m| e.problem.contains(m.as_str())))
                {
                    add(
                        report,
                        Finding {
                            rule: rules::rule("MF016").expect("MF016"),
                            file: target.name.to_string(),
                            line: r.line,
                            mount_line: None,
                            engines: vec![engine],
                            message: format!("{engine} rejects it: {}", e.problem),
                            explain: None,
                        },
                    );
                }
                report.coverage.push(Coverage {
                    engine,
                    setting,
                    found,
                    verdict: "unsupported".into(),
                    proof: "none".into(),
                    executions,
                    detail: Some(e.to_string()),
                });
                return;
            }
        };
        executions += rep.outcome.schedules;
        let hit = finding_of(&rep, &target, engine, opts);
        if hit.is_none()
            && matches!(rep.outcome.verdict, crate::explore::Verdict::Unknown(_))
            && cut.is_none()
        {
            cut = Some(format!(
                "the exhaustive search was cut by its budget after {} execution(s); PCT (depth 3) then sampled",
                rep.outcome.schedules
            ));
            strategy = Strategy::Pct { depth: 3 };
            continue;
        }
        let Some(hit) = hit else {
            if let Some((mut f, o)) = unconfirmed.take()
                && oracles.has(o)
            {
                f.message = format!(
                    "{} (found by the search of this RUN's cache group, which leaves out the order other caches' locks impose; the search of the whole build did not reproduce it within its budget)",
                    f.message
                );
                found.push(f.rule.id);
                add(report, f);
            }
            let stopped = found
                .iter()
                .any(|r| matches!(*r, "MF001" | "MF006" | "MF011"))
                .then(|| {
                    "the builds stop at the deadlock: what follows it is not explored".to_string()
                });
            report.coverage.push(Coverage {
                engine,
                setting,
                found,
                verdict: rep.verdict_name().to_string(),
                proof: match rep.outcome.verdict.proof() {
                    Some(p) if rep.holds() => p.name().to_string(),
                    _ => "none".into(),
                },
                executions,
                detail: rep
                    .unsupported
                    .clone()
                    .or_else(|| match &rep.outcome.verdict {
                        crate::explore::Verdict::Unknown(s)
                        | crate::explore::Verdict::Vacuous(s) => Some(s.clone()),
                        _ => None,
                    })
                    .or(cut.map(|c| format!("{c} {} schedule(s)", rep.outcome.schedules)))
                    .or(stopped),
            });
            return;
        };
        let (finding, oracle) = hit;
        found.push(finding.rule.id);
        add(report, finding);
        unconfirmed = None;
        oracles = Oracles::of(
            &Oracle::ALL
                .into_iter()
                .filter(|o| oracles.has(*o) && *o != oracle)
                .collect::<Vec<_>>(),
        );
    }
}

/// The cache groups of a build explored as N copies ([`groups::split`]).
struct Split<'a> {
    groups: Vec<Vec<usize>>,
    build: &'a Build,
    copies: usize,
}

enum GroupResult {
    /// Every group held exhaustively, in this many executions.
    Hold(u64),
    /// A group's search found this (not yet seen on the whole build).
    Found(u64, (Finding, Oracle)),
    /// A group's search was cut, or ended without a proof.
    Cut(u64),
}

/// Each group's projection explored exhaustively, with half the time shared among them.
fn by_group(
    sp: &Split<'_>,
    target: &Target<'_>,
    engine: Engine,
    topology: Topology,
    oracles: Oracles,
    opts: &Options,
) -> GroupResult {
    let mut n = 0;
    for g in &sp.groups {
        let part = Build {
            runs: g.iter().map(|&i| sp.build.runs[i].clone()).collect(),
            source: None,
            ..sp.build.clone()
        };
        let config = RunConfig {
            suite: copies(target.name, &part, sp.copies, false),
            profile: Profile::new(engine),
            world: lint_world(topology),
            sharing: None,
            strategy: Strategy::Dfs { por: true },
            budget: Budget::new(u64::MAX, opts.seconds / 2.0 / sp.groups.len() as f64),
            options: ExploreOptions {
                oracles,
                ..ExploreOptions::default()
            },
            shrink_time: Duration::ZERO,
        };
        let Ok(rep) = run(config) else {
            return GroupResult::Cut(n);
        };
        n += rep.outcome.schedules;
        let lanes = Target {
            name: target.name,
            text: target.text,
            runs: target.runs,
            steps: target.steps,
            lanes: vec![g.clone(); sp.copies],
        };
        if let Some(hit) = finding_of(&rep, &lanes, engine, opts) {
            return GroupResult::Found(n, hit);
        }
        if !rep.holds() {
            return GroupResult::Cut(n);
        }
    }
    GroupResult::Hold(n)
}

/// The finding of a run's violation, and its oracle.
fn finding_of(
    rep: &RunReport,
    target: &Target<'_>,
    engine: Engine,
    opts: &Options,
) -> Option<(Finding, Oracle)> {
    let (v, alone, cx) = if let Some(d) = rep.deterministic.first() {
        (&d.violation, true, Some(&d.counterexample))
    } else {
        let cx = rep.counterexample.as_ref()?;
        (cx.violation.as_ref()?, false, Some(cx))
    };
    // The test's index in the compiled program is the suite's (every test runs); its RUN number
    // indexes its lane of the file's RUNs.
    let test = rep
        .config
        .suite
        .tests
        .iter()
        .position(|t| cx.is_some_and(|c| c.tests.get(v.test) == Some(&t.name)))
        .unwrap_or(0);
    let lane = target.lanes.get(test).or(target.lanes.first())?;
    let run_idx = v
        .run
        .and_then(|r| lane.get(r as usize).copied())
        .or_else(|| lane.last().copied())?;
    let info = &target.runs[run_idx];
    let pruned = rep
        .config
        .suite
        .tests
        .iter()
        .any(|t| t.steps.iter().any(|s| matches!(s, Step::Prune { .. })));
    let rule = rules::for_violation(
        v,
        alone,
        rep.config.world.topology == Topology::Remote,
        pruned,
        locked_twice(&target.steps[run_idx], engine),
        engine,
    );
    let mount_line = target
        .runs
        .get(run_idx)
        .and_then(|r| r.mounts.first())
        .and_then(|m| {
            let t = m.split(',').find_map(|f| f.strip_prefix("target="))?;
            mount_line(target.text, info.line, t)
        });
    let explain = opts.explain.then(|| {
        cx.map(|c| {
            format!(
                "{}\n{}",
                crate::report::text::swimlanes(c),
                if alone {
                    "(one build alone: no interleaving is needed)".to_string()
                } else {
                    format!(
                        "({} copies of the build in parallel)",
                        rep.config.suite.tests.len()
                    )
                }
            )
        })
        .unwrap_or_default()
    });
    let finding = Finding {
        rule,
        file: target.name.to_string(),
        line: info.line,
        mount_line,
        engines: vec![engine],
        message: format!("{}: {}", rule.title, v.message),
        explain,
    };
    Some((finding, v.oracle))
}

/// Whether `run` mounts one cache twice with a lock both times on `engine` (same dir): two
/// locked mounts, or on the private pool a private and a locked one (one lock file).
fn locked_twice(run: &RunStep, engine: Engine) -> bool {
    use crate::mount::Sharing;
    let profile = Profile::new(engine);
    let pool = engine == Engine::Buildah(crate::engine::BuildahVersion::Pool);
    let dirs: Vec<String> = run
        .mounts
        .iter()
        .filter(|m| m.sharing == Sharing::Locked || (pool && m.sharing == Sharing::Private))
        .filter_map(|m| {
            profile
                .locate(m, &run.workdir, &crate::engine::CacheEnv::default())
                .ok()
                .map(|l| l.dir)
        })
        .collect();
    dirs.iter().enumerate().any(|(i, d)| dirs[..i].contains(d))
}

/// Adds a finding, joining one of the same rule at the same line from another engine.
fn add(report: &mut FileReport, f: Finding) {
    if let Some(old) = report
        .findings
        .iter_mut()
        .find(|o| o.rule.id == f.rule.id && o.line == f.line)
    {
        for e in f.engines {
            if !old.engines.contains(&e) {
                old.engines.push(e);
            }
        }
        if old.explain.is_none() {
            old.explain = f.explain;
        }
        return;
    }
    report.findings.push(f);
}

/// A suite file: its tests run in parallel as written, under podman-remote with no remedy, on
/// each Buildah profile; an isolation violation there that does not happen locally is MF010.
fn suite(name: &str, text: &str, opts: &Options) -> Result<FileReport, BadInput> {
    let mut report = FileReport::new(name);
    for &engine in &opts.engines {
        if engine == Engine::BuildKit {
            continue; // no TMPDIR plays a part on BuildKit
        }
        let s = Suite::from_toml(text, name, engine.dialect()).map_err(|e| BadInput {
            file: name.to_string(),
            line: None,
            problem: e.to_string(),
        })?;
        for topology in [Topology::Local, Topology::Remote] {
            let config = RunConfig {
                suite: s.clone(),
                profile: Profile::new(engine),
                world: lint_world(topology),
                sharing: None,
                strategy: Strategy::Dfs { por: true },
                budget: Budget::new(u64::MAX, opts.seconds),
                options: ExploreOptions {
                    oracles: Oracles::of(&[Oracle::Isolation]),
                    ..ExploreOptions::default()
                },
                shrink_time: Duration::from_millis(500),
            };
            let setting = format!(
                "suite, {}",
                if topology == Topology::Local {
                    "local"
                } else {
                    "remote"
                }
            );
            let rep = match run(config) {
                Ok(r) => r,
                Err(e) => {
                    report.coverage.push(Coverage {
                        engine,
                        setting,
                        found: Vec::new(),
                        verdict: "unsupported".into(),
                        proof: "none".into(),
                        executions: 0,
                        detail: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let violated = rep.violation().filter(|v| v.oracle == Oracle::Isolation);
            report.coverage.push(Coverage {
                engine,
                setting,
                found: if violated.is_some() && topology == Topology::Remote {
                    vec!["MF010"]
                } else {
                    Vec::new()
                },
                verdict: rep.verdict_name().to_string(),
                proof: match rep.outcome.verdict.proof() {
                    Some(p) if rep.holds() => p.name().to_string(),
                    _ => "none".into(),
                },
                executions: rep.outcome.schedules,
                detail: None,
            });
            if topology == Topology::Local && violated.is_some() {
                break; // apart not even locally: not a remote loss
            }
            if let (Topology::Remote, Some(v)) = (topology, violated) {
                let test = rep
                    .counterexample
                    .as_ref()
                    .and_then(|c| c.tests.get(v.test).cloned())
                    .unwrap_or_default();
                let line = text
                    .lines()
                    .position(|l| !test.is_empty() && l.contains(&format!("\"{test}\"")))
                    .map_or(1, |i| i + 1);
                let explain = opts.explain.then(|| {
                    rep.counterexample
                        .as_ref()
                        .map(crate::report::text::swimlanes)
                        .unwrap_or_default()
                });
                add(
                    &mut report,
                    Finding {
                        rule: rules::rule("MF010").expect("MF010"),
                        file: name.to_string(),
                        line,
                        mount_line: None,
                        engines: vec![engine],
                        message: format!(
                            "the tests are apart when built locally, not under podman-remote: {}",
                            v.message
                        ),
                        explain,
                    },
                );
            }
        }
    }
    Ok(report)
}

/// The world lint explores in: its copies stand for builds that differ (other commits, other
/// build args), so no copy reuses another's layers; writes have their moment in flight, for the
/// torn-read rule (MF017). A build's stages run in order in each copy: lint explores the pairs
/// of stages that BuildKit runs at once separately.
fn lint_world(topology: Topology) -> World {
    World {
        layer_cache: false,
        torn_writes: true,
        stages_in_order: true,
        ..World::new(topology, Remedy::None)
    }
}
