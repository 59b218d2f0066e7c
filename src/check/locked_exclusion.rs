//! Oracle: locked exclusion. While one RUN holds a locked cache, no other RUN holds it locked
//! (on the same lock file generation; across generations it is [`super::lock_integrity`]).

use crate::mount::Sharing;
use crate::store::table::{Hold, KeyState};

/// After `granted` was recorded on `state`: another locked holder of the same generation.
pub fn on_grant(state: &KeyState, granted: &Hold) -> Option<Hold> {
    if granted.sharing != Sharing::Locked {
        return None;
    }
    state.holds().map(|(_, h)| *h).find(|h| {
        h.holder != granted.holder && h.sharing == Sharing::Locked && h.lock_gen == granted.lock_gen
    })
}
