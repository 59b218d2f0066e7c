//! Tool profiles: what the package managers and build tools that people run under cache mounts
//! do to those caches, and what they do when another copy of themselves uses the same cache at
//! the same time. Each profile cites its source (the README's tool table repeats them).
//!
//! The explorer models a profiled command as an opaque command over the RUN's cache mounts
//! (it may read, write and create anything there), named `profile:<tool>` in every report; the
//! `tool-contention` oracle judges a meeting of two such commands by the contention facts here.

/// What a tool does when a second copy of it works in the same cache at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contention {
    /// It locks and waits for the other copy.
    Waits,
    /// It takes a lock without waiting and fails with this message.
    Fails(&'static str),
    /// Nothing stops the two: the cache can be corrupted.
    Corrupts,
    /// Built for concurrent use (atomic renames, content-addressed entries).
    Safe,
}

/// One tool profile.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// The profile's name (`profile:<name>` in reports).
    pub name: &'static str,
    /// The commands that are this tool.
    pub commands: &'static [&'static str],
    /// The cache directories it uses (the usual mount targets).
    pub paths: &'static [&'static str],
    /// The locks it takes itself, if any.
    pub locks: &'static str,
    /// What happens under contention.
    pub contention: Contention,
    /// Where this is documented (docs or code).
    pub source: &'static str,
}

impl Tool {
    /// Whether two copies at once on one cache fail or corrupt it.
    pub fn contends(&self) -> bool {
        matches!(self.contention, Contention::Fails(_) | Contention::Corrupts)
    }

    /// What a second copy at once does, in words.
    pub fn contention_text(&self) -> String {
        match self.contention {
            Contention::Fails(m) => format!("the second {} fails: {m}", self.name),
            Contention::Corrupts => format!(
                "nothing serialises two {} runs: the cache can be corrupted",
                self.name
            ),
            Contention::Waits => format!("{} waits for the other", self.name),
            Contention::Safe => format!("{} is safe under concurrent use", self.name),
        }
    }
}

/// The profile named in an opaque command's description (`profile:<tool>: …`).
pub fn of_what(what: &str) -> Option<&'static Tool> {
    let name = what.strip_prefix("profile:")?.split(':').next()?;
    TOOLS
        .iter()
        .chain(std::iter::once(&YARN_MUTEX))
        .find(|t| t.name == name)
}

/// Every profile.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "apt",
        commands: &["apt-get", "apt", "aptitude"],
        paths: &["/var/cache/apt", "/var/lib/apt", "/var/lib/apt/lists"],
        locks: "/var/cache/apt/archives/lock, /var/lib/apt/lists/lock (fcntl, no wait)",
        contention: Contention::Fails(
            "E: Could not get lock /var/cache/apt/archives/lock. It is held by process N",
        ),
        source: "apt-pkg/contrib/fileutl.cc GetLock (F_SETLK, no wait); BuildKit's Dockerfile reference, RUN --mount=type=cache example, recommends sharing=locked for apt",
    },
    Tool {
        name: "apk",
        commands: &["apk"],
        paths: &["/var/cache/apk", "/etc/apk/cache"],
        locks: "/lib/apk/db/lock (the root's database, not the cache)",
        contention: Contention::Corrupts,
        source: "apk-tools src/database.c: the lock is on the root's database; no lock on the cache dir was found, so it is treated as unsafe",
    },
    Tool {
        name: "dnf",
        commands: &["dnf", "yum", "microdnf", "tdnf"],
        paths: &["/var/cache/dnf", "/var/cache/yum"],
        locks: "/var/cache/dnf/*.pid, metadata lock (fails when held)",
        contention: Contention::Waits,
        source: "dnf dnf/lock.py ProcessLock: prints 'Waiting for process with pid N to finish.' and waits",
    },
    Tool {
        name: "cargo",
        commands: &["cargo"],
        paths: &[
            "/usr/local/cargo/registry",
            "/usr/local/cargo/git",
            "/root/.cargo/registry",
            "/root/.cargo/git",
            "target",
        ],
        locks: "$CARGO_HOME/.package-cache and target/<profile>/.cargo-lock (flock, blocking)",
        contention: Contention::Waits,
        source: "cargo src/cargo/util/flock.rs: prints 'Blocking waiting for file lock on package cache' and waits",
    },
    Tool {
        name: "pip",
        commands: &["pip", "pip3"],
        paths: &["/root/.cache/pip"],
        locks: "none for the cache; entries written by atomic rename",
        contention: Contention::Safe,
        source: "pip src/pip/_internal/network/cache.py (SafeFileCache, adjacent_tmp_file + replace)",
    },
    Tool {
        name: "uv",
        commands: &["uv", "uvx"],
        paths: &["/root/.cache/uv"],
        locks: "a file lock per cache bucket (blocking)",
        contention: Contention::Waits,
        source: "uv docs, concepts/cache: the cache is thread-safe and append-only, robust to concurrent readers and writers",
    },
    Tool {
        name: "poetry",
        commands: &["poetry"],
        paths: &["/root/.cache/pypoetry"],
        locks: "none documented for the artifact cache",
        contention: Contention::Corrupts,
        source: "poetry docs, configuration/cache-dir: no locking is documented, so it is treated as unsafe",
    },
    Tool {
        name: "npm",
        commands: &["npm", "npx"],
        paths: &["/root/.npm"],
        locks: "none; cacache writes content-addressed entries atomically",
        contention: Contention::Safe,
        source: "npm/cacache README: lockless, high-concurrency cache access",
    },
    Tool {
        name: "pnpm",
        commands: &["pnpm"],
        paths: &["/root/.local/share/pnpm/store", "/pnpm/store"],
        locks: "none; the content-addressed store is written by atomic rename",
        contention: Contention::Safe,
        source: "pnpm docs, symlinked-node-modules-structure and store: content-addressable store",
    },
    Tool {
        name: "yarn",
        commands: &["yarn"],
        paths: &["/usr/local/share/.cache/yarn", "/root/.cache/yarn"],
        locks: "only with --mutex file|network",
        contention: Contention::Corrupts,
        source: "yarn v1 docs, CLI introduction, concurrency and --mutex: concurrent yarn runs on one cache need --mutex",
    },
    Tool {
        name: "go",
        commands: &["go"],
        paths: &["/root/.cache/go-build", "/go/pkg/mod"],
        locks: "GOCACHE entries by atomic rename; GOMODCACHE extraction under a lock file",
        contention: Contention::Safe,
        source: "cmd/go/internal/cache/cache.go and modfetch/fetch.go (lockedfile): safe for concurrent go commands",
    },
    Tool {
        name: "ccache",
        commands: &["ccache"],
        paths: &["/root/.ccache", "/root/.cache/ccache"],
        locks: "per-entry lock files; atomic writes",
        contention: Contention::Safe,
        source: "ccache manual, section Sharing a cache: one cache may be used by concurrent processes",
    },
    Tool {
        name: "sccache",
        commands: &["sccache"],
        paths: &["/root/.cache/sccache"],
        locks: "a local server serialises access",
        contention: Contention::Safe,
        source: "mozilla/sccache docs/Local.md: local disk cache managed by the sccache server",
    },
];

/// yarn v1 run with `--mutex`: it serialises with the other copy.
pub const YARN_MUTEX: Tool = Tool {
    name: "yarn-mutex",
    commands: &[],
    paths: &["/usr/local/share/.cache/yarn", "/root/.cache/yarn"],
    locks: "--mutex file:<path> or network:<port>",
    contention: Contention::Waits,
    source: "yarn v1 docs, CLI introduction, concurrency and --mutex",
};

/// The profile of the command `name` with arguments `args` (`python -m pip` is pip; `yarn
/// --mutex …` is [`YARN_MUTEX`]).
pub fn profile(name: &str, args: &[&str]) -> Option<&'static Tool> {
    let name = match (name, args) {
        ("python" | "python3", ["-m", m, ..]) => m,
        _ => name,
    };
    if name == "yarn" && args.iter().any(|a| a.starts_with("--mutex")) {
        return Some(&YARN_MUTEX);
    }
    TOOLS.iter().find(|t| t.commands.contains(&name))
}
