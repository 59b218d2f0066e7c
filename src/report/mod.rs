//! Rendering results for people and machines: the swimlane text ([`text`]), JSON ([`json`]),
//! and the replay file ([`replay`]) that `mountfuzz replay` and regression tests take back.

pub mod json;
pub mod replay;
pub mod text;
