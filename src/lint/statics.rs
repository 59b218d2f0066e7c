//! The rules decided without exploring: facts of a Dockerfile's cache mounts under each engine's
//! rules of where a cache lives ([`crate::engine::Profile::locate`]) and which stages run at once
//! ([`crate::containerfile::Containerfile::parallel_stages`]).

use crate::containerfile::Containerfile;
use crate::engine::{CacheEnv, Engine, Profile};
use crate::mount::{MountSpec, MountType, Sharing};

/// A static finding: the rule, the RUN's line, the engines, and the message.
#[derive(Clone, Debug)]
pub struct StaticFinding {
    /// Rule ID.
    pub rule: &'static str,
    /// Line of the RUN.
    pub line: usize,
    /// The engines it applies to.
    pub engines: Vec<Engine>,
    /// One line.
    pub message: String,
}

struct CacheMount<'a> {
    line: usize,
    stage: usize,
    workdir: &'a str,
    spec: &'a MountSpec,
}

fn cache_mounts(cf: &Containerfile) -> Vec<CacheMount<'_>> {
    cf.runs
        .iter()
        .flat_map(|r| {
            r.mounts
                .iter()
                .filter(|m| m.kind == MountType::Cache)
                .map(move |m| CacheMount {
                    line: r.line,
                    stage: r.stage,
                    workdir: &r.workdir,
                    spec: m,
                })
        })
        .collect()
}

/// The cache dir of `m` on `engine` for a local build with the host's TMPDIR, or `None` when the
/// engine rejects the mount (the import names that).
fn dir_of(engine: Engine, m: &CacheMount<'_>) -> Option<(String, bool)> {
    let loc = Profile::new(engine)
        .locate(m.spec, m.workdir, &CacheEnv::default())
        .ok()?;
    Some((loc.dir, loc.contained))
}

fn names(es: &[Engine]) -> String {
    es.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every static finding of `cf` on `engines` (a file read in BuildKit's grammar, the reference).
pub fn check(cf: &Containerfile, engines: &[Engine]) -> Vec<StaticFinding> {
    let mounts = cache_mounts(cf);
    let mut out = Vec::new();
    let buildah: Vec<Engine> = engines
        .iter()
        .copied()
        .filter(|e| Profile::new(*e).has(crate::engine::Quirk::PrivateRejected))
        .collect();
    // MF003: sharing=private on Buildah.
    for m in &mounts {
        if m.spec.sharing == Sharing::Private && !buildah.is_empty() {
            out.push(StaticFinding {
                rule: "MF003",
                line: m.line,
                engines: buildah.clone(),
                message: format!(
                    "the cache mount at {} has sharing=private, which {} rejects",
                    m.spec.target,
                    names(&buildah)
                ),
            });
        }
    }
    // MF004: same id, different uid/gid/mode: merged on some engines, split on others.
    for (i, a) in mounts.iter().enumerate() {
        for b in &mounts[i + 1..] {
            if a.spec.from.is_some() || b.spec.from.is_some() {
                continue;
            }
            let owner = |m: &CacheMount<'_>| (m.spec.uid, m.spec.gid, m.spec.mode);
            if owner(a) == owner(b) {
                continue;
            }
            let (mut merged, mut split) = (Vec::new(), Vec::new());
            for &e in engines {
                match (dir_of(e, a), dir_of(e, b)) {
                    (Some((da, _)), Some((db, _))) if da == db => merged.push(e),
                    (Some(_), Some(_)) => split.push(e),
                    _ => {}
                }
            }
            if !merged.is_empty() && !split.is_empty() {
                out.push(StaticFinding {
                    rule: "MF004",
                    line: b.line,
                    engines: merged.iter().chain(&split).copied().collect(),
                    message: format!(
                        "the cache mounts at lines {} and {} (target {}, uid/gid/mode {} and {}) share one cache on {} and are apart on {}",
                        a.line,
                        b.line,
                        b.spec.target,
                        owner_text(owner(a)),
                        owner_text(owner(b)),
                        names(&merged),
                        names(&split)
                    ),
                });
            }
        }
    }
    // MF005 nested dirs and MF009 escapes, per engine.
    let mut nested: Vec<(usize, usize, String, String, Engine)> = Vec::new();
    for &e in engines {
        let dirs: Vec<Option<(String, bool)>> = mounts.iter().map(|m| dir_of(e, m)).collect();
        for (i, d) in dirs.iter().enumerate() {
            let Some((dir, contained)) = d else { continue };
            if !contained {
                push_or_join(
                    &mut out,
                    "MF009",
                    mounts[i].line,
                    e,
                    format!(
                        "the cache mount at {} (id {:?}) resolves to {dir}, outside the cache parent",
                        mounts[i].spec.target,
                        mounts[i]
                            .spec
                            .id
                            .as_deref()
                            .unwrap_or(&mounts[i].spec.target)
                    ),
                );
            }
            for (j, o) in dirs.iter().enumerate() {
                let Some((outer, _)) = o else { continue };
                if i != j && dir.len() > outer.len() && dir.starts_with(&format!("{outer}/")) {
                    nested.push((i, j, dir.clone(), outer.clone(), e));
                }
            }
        }
    }
    for (i, j, inner, outer, e) in nested {
        push_or_join(
            &mut out,
            "MF005",
            mounts[i].line.max(mounts[j].line),
            e,
            format!(
                "the cache dir of the mount at {} (line {}), {inner}, lies inside that of the mount at {} (line {}), {outer}",
                mounts[i].spec.target, mounts[i].line, mounts[j].spec.target, mounts[j].line
            ),
        );
    }
    // MF008: parallel stages with a cache mount at one target (BuildKit builds them at once).
    if engines.contains(&Engine::BuildKit) {
        for (sa, sb) in cf.parallel_stages() {
            for a in mounts.iter().filter(|m| m.stage == sa) {
                for b in mounts.iter().filter(|m| m.stage == sb) {
                    let target = |m: &CacheMount<'_>| {
                        crate::engine::path::resolve(m.workdir, &m.spec.target)
                    };
                    if target(a) == target(b) {
                        let stage =
                            |s: usize| cf.stages[s].name.clone().unwrap_or_else(|| s.to_string());
                        push_or_join(
                            &mut out,
                            "MF008",
                            b.line,
                            Engine::BuildKit,
                            format!(
                                "stages {} (line {}) and {} (line {}) do not need each other, and both mount a cache at {}",
                                stage(sa),
                                a.line,
                                stage(sb),
                                b.line,
                                target(b)
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}

fn owner_text((u, g, m): (Option<u32>, Option<u32>, Option<u32>)) -> String {
    let f = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "{}/{}/{}",
        f(u),
        f(g),
        m.map_or("-".to_string(), |m| format!("{m:o}"))
    )
}

/// Adds `engine` to the finding of `rule` at `line` with this message, or a new finding.
fn push_or_join(
    out: &mut Vec<StaticFinding>,
    rule: &'static str,
    line: usize,
    engine: Engine,
    message: String,
) {
    if let Some(f) = out
        .iter_mut()
        .find(|f| f.rule == rule && f.line == line && f.message == message)
    {
        if !f.engines.contains(&engine) {
            f.engines.push(engine);
        }
        return;
    }
    out.push(StaticFinding {
        rule,
        line,
        engines: vec![engine],
        message,
    });
}
