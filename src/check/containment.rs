//! Oracle: path containment. A cache dir must lie inside its cache parent (CVE-2024-9675).

use crate::engine::Location;

/// The complaint for a location outside its parent.
pub fn check(loc: &Location) -> Option<String> {
    (!loc.contained).then(|| {
        format!(
            "cache dir {} lies outside the cache parent {}",
            loc.dir, loc.parent
        )
    })
}
