//! Oracle: private exclusivity. An instance held in private mode has exactly one holder.

use crate::mount::Sharing;
use crate::store::table::KeyState;

/// After a grant on instance `inst`: whether it is now shared by a private holder and another.
pub fn on_grant(state: &KeyState, inst: usize) -> bool {
    state.instance_holds(inst).nth(1).is_some()
        && state
            .instance_holds(inst)
            .any(|h| h.sharing == Sharing::Private)
}
