//! `.mountfuzz.yaml`: the lint settings a repository keeps beside its Dockerfiles (hadolint's
//! `.hadolint.yaml` conventions: ignored rules, a failure threshold), plus the engines, copies
//! and settings to lint for. Command-line flags add to (ignore) or override (the rest) it.

use serde::Deserialize;

use super::rules::Threshold;
use crate::engine::Engine;

/// The file's contents. Every key is optional; an unknown key is an error.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Rule IDs never reported.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Engine profiles (`buildkit`, `buildah@1.39`, …).
    #[serde(default)]
    pub engines: Vec<String>,
    /// `error`, `warning`, `info`, `style` or `none`.
    pub failure_threshold: Option<String>,
    /// Parallel copies of each build.
    pub copies: Option<usize>,
    /// Builds also go through podman-remote.
    pub remote: Option<bool>,
    /// A prune runs beside the builds.
    pub prune: Option<bool>,
    /// Seconds of exploration per file, engine and setting.
    pub seconds: Option<f64>,
}

/// A config checked: engines parsed, the threshold known, the rules real.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// As read.
    pub config: Config,
    /// Parsed engines (empty: not set).
    pub engines: Vec<Engine>,
    /// Parsed threshold, if set.
    pub threshold: Option<Threshold>,
}

/// Reads `text` (from `source`, for messages).
pub fn parse(text: &str, source: &str) -> Result<Checked, String> {
    let config: Config = if text.trim().is_empty() {
        Config::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("{source}: {e}"))?
    };
    let engines = config
        .engines
        .iter()
        .map(|e| {
            e.parse::<Engine>()
                .map_err(|m| format!("{source}: engines: {m}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let threshold = config
        .failure_threshold
        .as_deref()
        .map(|t| {
            t.parse::<Threshold>()
                .map_err(|m| format!("{source}: failure-threshold: {m}"))
        })
        .transpose()?;
    for r in &config.ignored {
        if super::rules::rule(r).is_none() {
            return Err(format!("{source}: ignored: unknown rule {r:?}"));
        }
    }
    if config.copies == Some(0) {
        return Err(format!("{source}: copies: must be at least 1"));
    }
    if let Some(s) = config.seconds
        && !(s.is_finite() && s > 0.0)
    {
        return Err(format!("{source}: seconds: must be a positive number"));
    }
    Ok(Checked {
        config,
        engines,
        threshold,
    })
}
