//! Bounded child processes: every process gets a deadline, runs in its own process group, and
//! is killed by PID (the whole group) on timeout, on error, and when its guard is dropped, so no
//! build or server outlives the run that started it.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a bounded run produced.
#[derive(Clone, Debug)]
pub struct Finished {
    /// Exit code; `None` when killed (timeout or signal).
    pub code: Option<i32>,
    /// Standard output and standard error, interleaved as far as pipes allow (stderr appended).
    pub output: String,
    /// Whether the deadline ended it.
    pub timed_out: bool,
}

/// A started child in its own process group; dropping it kills the group.
#[derive(Debug)]
pub struct Guard {
    child: Child,
}

impl Guard {
    /// Starts `cmd` in a new process group with piped output.
    pub fn spawn(cmd: &mut Command) -> io::Result<Guard> {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        Ok(Guard { child })
    }

    /// Starts `cmd` in a new process group with its output going to the file `log`.
    pub fn spawn_logged(cmd: &mut Command, log: &Path) -> io::Result<Guard> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        Ok(Guard { child })
    }

    /// Whether the child has exited (and its exit code if so), without waiting.
    pub fn exited(&mut self) -> Option<Option<i32>> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.code()),
            Ok(None) => None,
            Err(_) => Some(None),
        }
    }

    /// Waits until the child exits or `limit` passes; then kills the group either way.
    pub fn wait(mut self, limit: Duration) -> io::Result<Finished> {
        let start = Instant::now();
        let mut out = self.child.stdout.take();
        let mut err = self.child.stderr.take();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_string(&mut s);
            }
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_string(&mut s);
            }
            s
        });
        let mut timed_out = false;
        let code = loop {
            if let Some(status) = self.child.try_wait()? {
                break status.code();
            }
            if start.elapsed() >= limit {
                timed_out = true;
                self.kill_group();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.kill_group(); // stragglers the child left behind in its group
        let output = reader.join().unwrap_or_default();
        Ok(Finished {
            code,
            output,
            timed_out,
        })
    }

    fn kill_group(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: kill(2) with a negative pid signals the process group we created; no memory.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cmd` to completion or until `limit`, killing its process group either way.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> io::Result<Finished> {
    Guard::spawn(cmd)?.wait(limit)
}

/// The first `name` found on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Why real-engine runs cannot happen here, or `None` when they can (root, buildah, busybox).
pub fn unavailable(engine_binary: &str) -> Option<String> {
    if which(engine_binary).is_none() {
        return Some(format!("{engine_binary} is not on PATH"));
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root (rootful builds are what is modelled)".into());
    }
    if static_busybox().is_none() {
        return Some("no static busybox (apt-get install busybox-static)".into());
    }
    None
}

/// A statically linked busybox to copy into `FROM scratch` images.
pub fn static_busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .map(Path::to_path_buf)
}
