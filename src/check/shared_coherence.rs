//! Oracle: shared coherence. A shared mount sees the key's cache: it must not be handed a new
//! empty instance while another instance of the key exists (BuildKit's mixing rule, §3).

use crate::mount::Sharing;

/// A grant in `sharing` mode that created a new instance while `held` other instances of the
/// key are held (a free one that a search finds would have been granted instead).
pub fn on_new_instance(sharing: Sharing, held: usize) -> bool {
    sharing == Sharing::Shared && held > 0
}
