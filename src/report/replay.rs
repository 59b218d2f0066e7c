//! The replay file: one JSON document holding everything a failing run needs to be run again
//! (the suite as TOML, engine and quirks, topology, remedy, schedule, the violation expected).
//! Shared by the CLI (`run --save`, `replay`), regression tests and the fuzz corpus.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check::{Oracle, Violation};
use crate::engine::{Engine, Profile, Quirk};
use crate::explore::Schedule;
use crate::scenario::Suite;
use crate::world::{Remedy, Topology, World};

/// Marks files this tool wrote (so it never overwrites anything else).
pub const FORMAT: &str = "mountfuzz-replay/1";

/// The file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The suite, as a suite file.
    pub suite: String,
    /// Engine name (`buildah@1.28`, …).
    pub engine: String,
    /// Quirks in force, by name.
    pub quirks: Vec<String>,
    /// `local` or `remote`.
    pub topology: String,
    /// Remedy name.
    pub remedy: String,
    /// Whether builds reused layers (`World::layer_cache`; false in files that predate it).
    #[serde(default)]
    pub layers: bool,
    /// Whether writes had their moment in flight (`World::torn_writes`; false in files that
    /// predate it).
    #[serde(default)]
    pub torn_writes: bool,
    /// Whether a build's stages ran in order (`World::stages_in_order`; false in files that
    /// predate it).
    #[serde(default)]
    pub stages_in_order: bool,
    /// The schedule (`0.0.1…`).
    pub schedule: String,
    /// The oracle expected to break.
    pub oracle: Oracle,
    /// Its message when the file was written.
    pub message: String,
}

/// A replay file, read back and checked.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The suite.
    pub suite: Suite,
    /// Engine with quirks.
    pub profile: Profile,
    /// Topology and remedy.
    pub world: World,
    /// The schedule.
    pub schedule: Schedule,
    /// The oracle expected to break.
    pub oracle: Oracle,
}

impl ReplayFile {
    /// The file for a counterexample.
    pub fn new(
        suite: &Suite,
        profile: Profile,
        world: &World,
        schedule: &Schedule,
        v: &Violation,
    ) -> ReplayFile {
        ReplayFile {
            format: FORMAT.into(),
            suite: suite.to_toml(profile.engine.dialect()),
            engine: profile.engine.to_string(),
            quirks: profile
                .quirks
                .iter()
                .map(|q| q.name().to_string())
                .collect(),
            topology: world.topology.to_string(),
            remedy: world.remedy.to_string(),
            layers: world.layer_cache,
            torn_writes: world.torn_writes,
            stages_in_order: world.stages_in_order,
            schedule: schedule.to_string(),
            oracle: v.oracle,
            message: v.message.clone(),
        }
    }

    /// Writes the file atomically; an existing file is replaced only if it is a replay file.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("a replay file serialises");
        super::write_output(path, &text, FORMAT).map_err(|e| {
            e.replace(
                "was not written by mountfuzz",
                "is not a mountfuzz replay file",
            )
        })
    }

    /// Reads and checks a replay file; every error names the file and the problem.
    pub fn load(path: &Path) -> Result<Loaded, String> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
        let f: ReplayFile =
            serde_json::from_str(&text).map_err(|e| format!("{shown}: not a replay file: {e}"))?;
        if f.format != FORMAT {
            return Err(format!("{shown}: format {:?} is not {FORMAT:?}", f.format));
        }
        let field = |name: &str, e: String| format!("{shown}: field {name}: {e}");
        let engine: Engine = f.engine.parse().map_err(|e| field("engine", e))?;
        let mut profile = Profile::new(engine);
        profile.quirks = crate::engine::Quirks::default();
        for q in &f.quirks {
            profile.quirks = profile
                .quirks
                .with(q.parse::<Quirk>().map_err(|e| field("quirks", e))?);
        }
        let topology: Topology = f.topology.parse().map_err(|e| field("topology", e))?;
        let remedy: Remedy = f.remedy.parse().map_err(|e| field("remedy", e))?;
        let schedule: Schedule = f.schedule.parse().map_err(|e| field("schedule", e))?;
        let suite = Suite::from_toml(&f.suite, &format!("{shown} (suite)"), engine.dialect())
            .map_err(|e| e.to_string())?;
        Ok(Loaded {
            suite,
            profile,
            world: World {
                layer_cache: f.layers,
                torn_writes: f.torn_writes,
                stages_in_order: f.stages_in_order,
                ..World::new(topology, remedy)
            },
            schedule,
            oracle: f.oracle,
        })
    }
}
