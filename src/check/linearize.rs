//! Oracle for real-thread runs: is a history of timed operations explained by the model?
//!
//! Wing & Gong's search: an operation may be linearized next if no other pending operation
//! responded before it was invoked; the search applies candidates to the sequential model of one
//! cache dir (its files and its lock) and backtracks, memoizing (done-set, state) pairs. The
//! history is split per cache dir first, so each search stays small. A time budget turns a
//! search that does not finish into `Unknown`; a violation is shrunk to the smallest
//! sub-history that still has no explaining order.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// An operation on one cache dir, as the sequential model sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LinOp {
    /// Take the dir's lock (locked mode).
    Acquire,
    /// Release it (a no-op if this thread no longer holds it: its lock file was replaced).
    Release,
    /// Replace a file.
    Write {
        /// File name.
        file: String,
        /// Content.
        value: String,
    },
    /// The second step of a real write: the content lands at offset 0 of the inode the same
    /// thread's last `Write` opened, over what is there (a longer content written meanwhile by
    /// another opener keeps its tail: `theirs` then `mine` reads `miners`). It is visible only
    /// if the name still refers to that inode (a wipe or prune in between, even if the name
    /// was created again since, loses it).
    Fill {
        /// File name.
        file: String,
        /// Content.
        value: String,
    },
    /// Append a line to a file.
    Append {
        /// File name.
        file: String,
        /// Line.
        value: String,
    },
    /// Read a file; `got` is what the real run saw (`None`: absent).
    Read {
        /// File name.
        file: String,
        /// Observed content.
        got: Option<String>,
    },
    /// Remove a file.
    Remove {
        /// File name.
        file: String,
    },
    /// Remove everything in the dir; `removes_lock` when the lock file goes too.
    Wipe {
        /// Whether the lock file lives in what was removed.
        removes_lock: bool,
    },
}

/// One timed operation of a real run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedOp {
    /// The thread (test) that ran it.
    pub thread: usize,
    /// The cache dir it acted on.
    pub key: String,
    /// What it did.
    pub op: LinOp,
    /// When it was invoked (ns since the run started).
    pub invoke: u64,
    /// When it returned.
    pub response: u64,
}

/// The verdict of a linearizability check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinVerdict {
    /// Every dir's history has an order the model explains.
    Linearizable {
        /// Operations checked.
        ops: usize,
        /// Cache dirs.
        keys: usize,
    },
    /// No order explains this dir's history; `witness` is a smallest such sub-history.
    Violation {
        /// The cache dir.
        key: String,
        /// Operations that no order explains, in invocation order.
        witness: Vec<TimedOp>,
    },
    /// The budget ended first (or a dir had too many operations to search).
    Unknown(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct State {
    /// Name → (inode, content).
    files: BTreeMap<String, (u32, String)>,
    /// Per thread: the (name, inode) its last `Write` opened, until its `Fill`.
    opened: BTreeMap<usize, (String, u32)>,
    /// Inodes created so far (the next one's number).
    inodes: u32,
    lock: Option<usize>,
}

impl State {
    /// The inode `file` names, or a new one.
    fn inode_of(&mut self, file: &str) -> u32 {
        match self.files.get(file) {
            Some((i, _)) => *i,
            None => {
                self.inodes += 1;
                self.inodes
            }
        }
    }
}

fn apply(s: &State, o: &TimedOp) -> Option<State> {
    let mut n = s.clone();
    match &o.op {
        LinOp::Acquire => {
            if s.lock.is_some() {
                return None;
            }
            n.lock = Some(o.thread);
        }
        LinOp::Release => {
            if s.lock == Some(o.thread) {
                n.lock = None;
            }
        }
        LinOp::Write { file, value } => {
            // Opening with O_TRUNC keeps an existing inode and creates one otherwise.
            let inode = n.inode_of(file);
            n.files.insert(file.clone(), (inode, value.clone()));
            n.opened.insert(o.thread, (file.clone(), inode));
        }
        LinOp::Fill { file, value } => {
            if let Some((name, inode)) = n.opened.remove(&o.thread)
                && name == *file
                && let Some((i, old)) = s.files.get(file)
                && *i == inode
            {
                let mut bytes = value.as_bytes().to_vec();
                bytes.extend(old.as_bytes().iter().skip(value.len()));
                let content = String::from_utf8_lossy(&bytes).into_owned();
                n.files.insert(file.clone(), (inode, content));
            }
        }
        LinOp::Append { file, value } => {
            let v = match s.files.get(file) {
                Some((_, old)) => format!("{old}\n{value}"),
                None => value.clone(),
            };
            let inode = n.inode_of(file);
            n.files.insert(file.clone(), (inode, v));
        }
        LinOp::Read { file, got } => {
            if s.files.get(file).map(|(_, c)| c) != got.as_ref() {
                return None;
            }
        }
        LinOp::Remove { file } => {
            n.files.remove(file);
        }
        LinOp::Wipe { removes_lock } => {
            n.files.clear();
            if *removes_lock {
                n.lock = None;
            }
        }
    }
    Some(n)
}

enum Search {
    Found,
    NotFound,
    OutOfTime,
}

fn digest(done: u128, s: &State) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    done.hash(&mut h);
    s.hash(&mut h);
    h.finish()
}

fn search(
    ops: &[TimedOp],
    done: u128,
    s: &State,
    seen: &mut HashSet<u64>,
    deadline: Instant,
) -> Search {
    if done.count_ones() as usize == ops.len() {
        return Search::Found;
    }
    if !seen.insert(digest(done, s)) {
        return Search::NotFound;
    }
    if Instant::now() >= deadline {
        return Search::OutOfTime;
    }
    let pending = |i: usize| done & (1u128 << i) == 0;
    let earliest_response = (0..ops.len())
        .filter(|&i| pending(i))
        .map(|i| ops[i].response)
        .min()
        .unwrap_or(u64::MAX);
    let mut out_of_time = false;
    for i in (0..ops.len()).filter(|&i| pending(i) && ops[i].invoke <= earliest_response) {
        if let Some(next) = apply(s, &ops[i]) {
            match search(ops, done | 1u128 << i, &next, seen, deadline) {
                Search::Found => return Search::Found,
                Search::OutOfTime => out_of_time = true,
                Search::NotFound => {}
            }
        }
    }
    if out_of_time {
        Search::OutOfTime
    } else {
        Search::NotFound
    }
}

/// Whether one dir's operations have an order the model explains (`None`: out of time).
fn linearizable(ops: &[TimedOp], deadline: Instant) -> Option<bool> {
    match search(ops, 0, &State::default(), &mut HashSet::new(), deadline) {
        Search::Found => Some(true),
        Search::NotFound => Some(false),
        Search::OutOfTime => None,
    }
}

/// At most this many operations on one dir are searched (a bit set of 128).
pub const MAX_OPS_PER_KEY: usize = 128;

/// Checks `history` within `budget`.
pub fn check(history: &[TimedOp], budget: Duration) -> LinVerdict {
    let deadline = Instant::now() + budget;
    let mut by_key: BTreeMap<&str, Vec<TimedOp>> = BTreeMap::new();
    for o in history {
        by_key.entry(&o.key).or_default().push(o.clone());
    }
    for (key, ops) in &mut by_key {
        if ops.len() > MAX_OPS_PER_KEY {
            return LinVerdict::Unknown(format!(
                "{} operations on {key}: more than the {MAX_OPS_PER_KEY} one search handles",
                ops.len()
            ));
        }
        ops.sort_by_key(|o| o.invoke);
        match linearizable(ops, deadline) {
            Some(true) => {}
            Some(false) => {
                return LinVerdict::Violation {
                    key: key.to_string(),
                    witness: shrink(ops.clone(), deadline),
                };
            }
            None => {
                return LinVerdict::Unknown(format!("the time budget ended while checking {key}"));
            }
        }
    }
    LinVerdict::Linearizable {
        ops: history.len(),
        keys: by_key.len(),
    }
}

/// Drops operations one at a time while the rest still has no explaining order.
fn shrink(mut ops: Vec<TimedOp>, deadline: Instant) -> Vec<TimedOp> {
    let mut i = ops.len();
    while i > 0 {
        i -= 1;
        let mut cand = ops.clone();
        cand.remove(i);
        if linearizable(&cand, deadline) == Some(false) {
            ops = cand;
            i = i.min(ops.len());
        }
    }
    ops
}

/// One line per operation of a witness, for people.
pub fn describe(witness: &[TimedOp]) -> String {
    witness
        .iter()
        .map(|o| {
            format!(
                "  [{:>9} ns .. {:>9} ns] thread {}: {:?}",
                o.invoke, o.response, o.thread, o.op
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
