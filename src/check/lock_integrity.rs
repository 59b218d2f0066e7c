//! Oracle: lock integrity. Two RUNs hold one cache locked at once because its lock file was
//! removed and re-created under the first (buildah#4342, or a prune without locks).

use crate::mount::Sharing;
use crate::store::table::{Hold, KeyState, Table};

/// After `granted` was recorded on `state`: a locked holder of an older lock generation.
pub fn on_grant(state: &KeyState, granted: &Hold) -> Option<Hold> {
    if granted.sharing != Sharing::Locked {
        return None;
    }
    state.holds().map(|(_, h)| *h).find(|h| {
        h.holder != granted.holder && h.sharing == Sharing::Locked && h.lock_gen != granted.lock_gen
    })
}

/// Over a whole table (loom and stress checks): does some key have two RUNs holding it locked at
/// once, whatever the lock generation?
pub fn two_locked_holders(t: &Table) -> bool {
    t.keys.iter().any(|k| {
        let mut locked = k
            .holds()
            .filter(|(_, h)| h.sharing == Sharing::Locked)
            .map(|(_, h)| h.holder);
        locked
            .next()
            .is_some_and(|first| locked.any(|h| h != first))
    })
}
