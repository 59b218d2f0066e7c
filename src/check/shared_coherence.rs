//! Oracle: shared coherence. A shared mount sees the key's cache: it must not be handed a new
//! empty instance while another instance of the key exists (BuildKit's mixing rule, §3).

use crate::mount::Sharing;

/// A grant in `sharing` mode that created instance `inst` of a key that has `instances` now.
pub fn on_new_instance(sharing: Sharing, inst: usize) -> bool {
    sharing == Sharing::Shared && inst > 0
}
