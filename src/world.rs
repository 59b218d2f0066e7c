//! Where each step of a test runs, and with which environment: the topology (local builds, or a
//! podman server per test reached through podman-remote) and the remedy under test. This is the
//! podman#25414 mechanism: under `remote` a build runs in a server that never sees the client's
//! `TMPDIR`, while `prune` still runs locally with it (semantics.md §4).

use std::collections::BTreeMap;
use std::fmt;

use crate::engine::CacheEnv;
use crate::mount::MountSpec;
use crate::scenario::{Step, TestCase};

/// How builds reach the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topology {
    /// The build runs in the client process, with the test's environment.
    Local,
    /// Each test has its own server process, started with the set-up environment; builds run
    /// there; `prune` still runs locally with the client's environment.
    Remote,
}

/// A remedy for cross-test cache interference under the remote topology (semantics.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Remedy {
    /// Nothing done.
    None,
    /// (a) One TMPDIR for every remote test and its server.
    GlobalTmpdir,
    /// (c) Each test's server is started with that test's TMPDIR.
    ServerEnv,
    /// (c') The client sends its TMPDIR with each build.
    ForwardEnv,
    /// Each test's mounts get `id=<test name>/<id or target>`.
    UniqueId,
    /// (b) Cache tests are not run remotely (what podman PR #25669 did).
    SkipRemote,
}

impl Remedy {
    /// Every remedy, in a fixed order.
    pub const ALL: [Remedy; 6] = [
        Remedy::None,
        Remedy::GlobalTmpdir,
        Remedy::ServerEnv,
        Remedy::ForwardEnv,
        Remedy::UniqueId,
        Remedy::SkipRemote,
    ];

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Remedy::None => "none",
            Remedy::GlobalTmpdir => "global-tmpdir",
            Remedy::ServerEnv => "server-env",
            Remedy::ForwardEnv => "forward-env",
            Remedy::UniqueId => "unique-id",
            Remedy::SkipRemote => "skip-remote",
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Remedy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Remedy::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Remedy::ALL.iter().map(|r| r.name()).collect();
                format!("unknown remedy {s:?} (want one of {})", names.join(", "))
            })
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Topology::Local => "local",
            Topology::Remote => "remote",
        })
    }
}

impl std::str::FromStr for Topology {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Topology::Local),
            "remote" => Ok(Topology::Remote),
            _ => Err(format!("unknown topology {s:?} (want local or remote)")),
        }
    }
}

/// The whole setting a suite runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    /// Local or remote.
    pub topology: Topology,
    /// The remedy applied.
    pub remedy: Remedy,
    /// The environment every process has at set-up (the servers keep it). `TMPDIR` unset by
    /// default, so Buildah falls back to `/var/tmp`.
    pub setup_env: BTreeMap<String, String>,
    /// The TMPDIR of the `global-tmpdir` remedy.
    pub global_tmpdir: String,
    /// Host uid of every build process.
    pub host_uid: u32,
    /// Whether builds reuse layers across builds where the engine does (BuildKit's layer
    /// cache and merging of identical builds; `podman build`'s default `--layers`). Off by
    /// default: every build is taken as distinct (the real driver makes its builds distinct by
    /// nonces and `--layers=false`).
    pub layer_cache: bool,
    /// Whether a write that opens its file with `O_TRUNC` (`echo … > f`, `cp`, `tee`) has a
    /// moment, between the open and its bytes landing, when another build sees the file empty:
    /// what the torn-read oracle needs ([`crate::check::Oracle::TornRead`]). Off by default:
    /// each write is one step.
    pub torn_writes: bool,
    /// Whether a build's stages run one after another even where the engine runs independent
    /// stages at once (BuildKit, [`crate::engine::Profile::runs_stages_at_once`]). Off by
    /// default: they interleave. The real drivers and lint (which explores stage pairs itself)
    /// turn it on.
    pub stages_in_order: bool,
}

impl World {
    /// A world with the given topology and remedy and the default set-up environment.
    pub fn new(topology: Topology, remedy: Remedy) -> World {
        World {
            topology,
            remedy,
            setup_env: BTreeMap::new(),
            global_tmpdir: "/tmp/remote-tests".into(),
            host_uid: 0,
            layer_cache: false,
            torn_writes: false,
            stages_in_order: false,
        }
    }

    /// A test's scratch dir (`$TEST_SCRATCH_DIR`, `$SCRATCH` in suites).
    pub fn scratch(&self, test: &str) -> String {
        format!("/scratch/{test}")
    }

    fn remote(&self) -> bool {
        self.topology == Topology::Remote
    }

    /// Whether the test is skipped here (the `skip-remote` remedy skips remote cache tests).
    pub fn skipped(&self, test: &TestCase) -> bool {
        self.remote()
            && self.remedy == Remedy::SkipRemote
            && test.steps.iter().any(|s| matches!(s, Step::Build(_)))
    }

    /// The client's environment for a step of `test` with these overrides.
    pub fn client_env(
        &self,
        test: &str,
        overrides: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut env = self.setup_env.clone();
        let scratch = self.scratch(test);
        for (k, v) in overrides {
            env.insert(k.clone(), v.replace("$SCRATCH", &scratch));
        }
        if self.remote() && self.remedy == Remedy::GlobalTmpdir {
            env.insert("TMPDIR".into(), self.global_tmpdir.clone());
        }
        env
    }

    /// The environment `test`'s server is started with (remote topology).
    pub fn server_env(
        &self,
        test: &str,
        overrides: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut env = self.setup_env.clone();
        match self.remedy {
            Remedy::GlobalTmpdir => {
                env.insert("TMPDIR".into(), self.global_tmpdir.clone());
            }
            // The test's TMPDIR is its scratch dir, known when the server starts.
            Remedy::ServerEnv => {
                env.insert("TMPDIR".into(), self.scratch(test));
            }
            Remedy::ForwardEnv => {
                if let Some(t) = self.client_env(test, overrides).get("TMPDIR") {
                    env.insert("TMPDIR".into(), t.clone());
                }
            }
            Remedy::None | Remedy::UniqueId | Remedy::SkipRemote => {}
        }
        env
    }

    fn cache_env(&self, env: &BTreeMap<String, String>) -> CacheEnv {
        CacheEnv {
            tmpdir: env.get("TMPDIR").cloned(),
            image_copy_tmp_dir: None,
            host_uid: self.host_uid,
            buildkit_namespace: None,
            build: None,
        }
    }

    /// The environment of the process that runs a build of `test` with these overrides.
    pub fn build_env(&self, test: &str, overrides: &BTreeMap<String, String>) -> CacheEnv {
        if self.remote() {
            self.cache_env(&self.server_env(test, overrides))
        } else {
            self.cache_env(&self.client_env(test, overrides))
        }
    }

    /// The environment `prune` runs with: always the client's (prune is not a build).
    pub fn prune_env(&self, test: &str, overrides: &BTreeMap<String, String>) -> CacheEnv {
        self.cache_env(&self.client_env(test, overrides))
    }

    /// A mount as this world runs it (the `unique-id` remedy rewrites ids).
    pub fn mount(&self, test: &str, spec: &MountSpec) -> MountSpec {
        let mut m = spec.clone();
        if self.remedy == Remedy::UniqueId {
            let base = spec.id.clone().unwrap_or_else(|| spec.target.clone());
            m.id = Some(format!("{test}/{}", base.trim_start_matches('/')));
        }
        m
    }

    /// Whether a build's process ends with the build (local), dropping its file locks; a remote
    /// build runs in a server that lives on.
    pub fn build_process_exits(&self) -> bool {
        !self.remote()
    }
}
