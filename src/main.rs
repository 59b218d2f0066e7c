//! The `mountfuzz` command line: parses arguments, calls the library, renders. No logic of its own.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mountfuzz::engine::{CacheEnv, Engine, Profile, Quirk};
use mountfuzz::mount::MountType;

#[derive(Parser)]
#[command(
    name = "mountfuzz",
    version,
    about = "A concurrency fuzzer for build-cache mounts"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print where a cache mount's directory (and lock file) lives for a given engine.
    Where(WhereArgs),
}

#[derive(clap::Args)]
struct WhereArgs {
    /// The engine: buildkit, buildah (current), buildah@1.28.
    #[arg(long, default_value = "buildah")]
    engine: Engine,
    /// `$TMPDIR` of the process that runs the build (unset: containers.conf, then /var/tmp).
    #[arg(long)]
    tmpdir: Option<String>,
    /// containers.conf `image_copy_tmp_dir`.
    #[arg(long)]
    image_copy_tmp_dir: Option<String>,
    /// Host uid of the building process.
    #[arg(long, default_value_t = 0)]
    host_uid: u32,
    /// WORKDIR of the RUN (for relative targets).
    #[arg(long, default_value = "/")]
    workdir: String,
    /// BuildKit's BUILDKIT_CACHE_MOUNT_NS.
    #[arg(long)]
    namespace: Option<String>,
    /// Switch a quirk off (apply its fix); repeatable.
    #[arg(long = "fix")]
    fixes: Vec<Quirk>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The option string of `--mount=`, e.g. `type=cache,target=/test`.
    options: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Some(Cmd::Where(a)) => cmd_where(a),
        None => Err(Failure::usage("no command given (see --help)")),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("mountfuzz: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// An error to print, with its exit code (2: usage or input).
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn usage(m: impl Into<String>) -> Failure {
        Failure {
            message: m.into(),
            code: 2,
        }
    }
}

fn cmd_where(a: WhereArgs) -> Result<ExitCode, Failure> {
    let mut profile = Profile::new(a.engine);
    for q in a.fixes {
        profile = profile.fixed(q);
    }
    let spec = profile
        .parse_mount(&a.options)
        .map_err(|e| Failure::usage(format!("{:?}: {e}", a.options)))?;
    if spec.kind != MountType::Cache {
        return Err(Failure::usage(format!(
            "{:?}: not a cache mount (add type=cache)",
            a.options
        )));
    }
    let env = CacheEnv {
        tmpdir: a.tmpdir,
        image_copy_tmp_dir: a.image_copy_tmp_dir,
        host_uid: a.host_uid,
        buildkit_namespace: a.namespace,
    };
    let loc = profile
        .locate(&spec, &a.workdir, &env)
        .map_err(|e| Failure::usage(format!("{:?}: {e}", a.options)))?;
    if a.json {
        let v = serde_json::json!({
            "engine": a.engine.to_string(),
            "parent": loc.parent,
            "dir": loc.dir,
            "id": loc.id,
            "lock_file": loc.lock_file,
            "contained": loc.contained,
            "sharing": spec.sharing.name(),
        });
        println!("{v}");
    } else {
        println!("{}", loc.dir);
        if let Some(l) = &loc.lock_file {
            println!("lock file: {l}");
        }
        if !loc.contained {
            println!("warning: outside the cache parent {}", loc.parent);
        }
    }
    Ok(ExitCode::SUCCESS)
}
