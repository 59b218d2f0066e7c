//! A schedule: which test moved at each step. Written as dot-separated test indices
//! (`0.0.1.0.2`), the form replay files, the CLI and regression tests share.

use std::fmt;

/// The test index chosen at each step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<u32>);

impl Schedule {
    /// Context switches: steps whose test differs from the previous step's.
    pub fn switches(&self) -> usize {
        self.0.windows(2).filter(|w| w[0] != w[1]).count()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Ok(Schedule(Vec::new()));
        }
        s.trim()
            .split('.')
            .map(|p| {
                p.parse::<u32>()
                    .map_err(|_| format!("bad schedule {s:?}: {p:?} is not a test index"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Schedule)
    }
}
