//! The current engines that `ci/engines.sh up` runs from a Debian 13 root filesystem: Buildah
//! 1.39, podman 5.4 and Docker 26 (BuildKit). This module reads what the script recorded
//! (`state/env` under `MOUNTFUZZ_ENGINES_ROOT`) and builds commands that run a binary of that
//! root in a chroot, with an explicit environment. Paths under [`Installation::work`] are the
//! same inside and outside the root (the script bind-mounts them), so scratch dirs made there
//! can be handed to a chroot's binary as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `ci/engines.sh` keeps the root, the work dir and its state, unless
/// `MOUNTFUZZ_ENGINES_ROOT` says otherwise.
pub const DEFAULT_ROOT: &str = "/var/lib/mountfuzz/engines";

/// The running Debian 13 engines, as `ci/engines.sh up` recorded them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    /// The trixie root filesystem.
    pub rootfs: PathBuf,
    /// Scratch space visible at the same path inside the root.
    pub work: PathBuf,
    /// The shared podman 5.4 service's socket (host path).
    pub podman_sock: PathBuf,
    /// dockerd's socket (host path).
    pub docker_sock: PathBuf,
    /// dockerd's data root (host path); BuildKit's cache mounts are snapshots in its
    /// `overlay2/<ref>/diff`.
    pub docker_data: PathBuf,
    /// Versions of buildah, podman and dockerd in the root.
    pub versions: BTreeMap<String, String>,
}

impl Installation {
    /// The engines recorded under `MOUNTFUZZ_ENGINES_ROOT` (or [`DEFAULT_ROOT`]), or why there
    /// are none.
    pub fn find() -> Result<Installation, String> {
        let root = std::env::var_os("MOUNTFUZZ_ENGINES_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        Installation::at(&root)
    }

    /// The engines recorded under `root`.
    pub fn at(root: &Path) -> Result<Installation, String> {
        let file = root.join("state/env");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "the Debian 13 engines are not up ({}: {e}); run `bash ci/engines.sh up` as root",
                file.display()
            )
        })?;
        let vars: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let path = |k: &str| {
            vars.get(k)
                .map(PathBuf::from)
                .ok_or_else(|| format!("{}: no {k}=", file.display()))
        };
        let inst = Installation {
            rootfs: path("ROOTFS")?,
            work: path("WORK")?,
            podman_sock: path("PODMAN_SOCK")?,
            docker_sock: path("DOCKER_SOCK")?,
            docker_data: path("DOCKER_DATA")?,
            versions: vars
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_suffix("_VERSION")
                        .map(|n| (n.to_lowercase(), v.to_string()))
                })
                .collect(),
        };
        if !inst.rootfs.join("proc/self").exists() {
            return Err(format!(
                "{} is recorded but not mounted; run `bash ci/engines.sh up`",
                inst.rootfs.display()
            ));
        }
        Ok(inst)
    }

    /// A command running `program` of the root in a chroot, with only `PATH`, `HOME` and `env`
    /// in its environment (the host's is not inherited). Its PID is the engine's own: chroot
    /// and env exec it.
    pub fn command(&self, program: &str, env: &[(&str, &Path)]) -> Command {
        let mut c = Command::new("chroot");
        c.arg(&self.rootfs)
            .arg("env")
            .arg("-i")
            .arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
            .arg("HOME=/root");
        for (k, v) in env {
            c.arg(format!("{k}={}", v.display()));
        }
        c.arg(program);
        c
    }

    /// A host path inside the root as the chroot sees it (`<rootfs>/x` → `/x`).
    pub fn inside(&self, host: &Path) -> PathBuf {
        match host.strip_prefix(&self.rootfs) {
            Ok(rel) => Path::new("/").join(rel),
            Err(_) => host.to_path_buf(),
        }
    }

    /// The version recorded for `binary` (`buildah`, `podman`, `docker`).
    pub fn version(&self, binary: &str) -> &str {
        self.versions.get(binary).map_or("?", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_state_file_and_names_what_is_missing() {
        let d = tempfile::tempdir().unwrap();
        let e = Installation::at(d.path()).unwrap_err();
        assert!(
            e.contains("not up") && e.contains("ci/engines.sh up"),
            "{e}"
        );
        std::fs::create_dir_all(d.path().join("state")).unwrap();
        std::fs::write(d.path().join("state/env"), "ROOTFS=/nonexistent\n").unwrap();
        let e = Installation::at(d.path()).unwrap_err();
        assert!(e.contains("no WORK="), "{e}");
        let rootfs = d.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("proc/self")).unwrap();
        std::fs::write(
            d.path().join("state/env"),
            format!(
                "ROOTFS={}\nWORK=/w\nPODMAN_SOCK=/p\nDOCKER_SOCK=/d\nDOCKER_DATA=/dd\nBUILDAH_VERSION=1.39.3\n",
                rootfs.display()
            ),
        )
        .unwrap();
        let i = Installation::at(d.path()).unwrap();
        assert_eq!(i.version("buildah"), "1.39.3");
        assert_eq!(
            i.inside(&rootfs.join("run/x.sock")),
            Path::new("/run/x.sock")
        );
        let c = i.command("buildah", &[("TMPDIR", Path::new("/w/t"))]);
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args.last().unwrap(), "buildah");
        assert!(args.contains(&"TMPDIR=/w/t".to_string()));
    }
}
