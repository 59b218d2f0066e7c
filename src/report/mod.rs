//! Rendering results for people and machines: the swimlane text ([`text`]), JSON ([`json`]),
//! a self-contained HTML timeline ([`html`]), JUnit XML ([`junit`]), and the replay file
//! ([`replay`]) that `mountfuzz replay` and regression tests take back.

pub mod html;
pub mod json;
pub mod junit;
pub mod replay;
pub mod text;

use std::io::Write;
use std::path::Path;

/// Writes `text` to `path` atomically (a temporary file in the same directory, then a rename).
/// An existing file is replaced only if it contains `marker`, i.e. this tool wrote it: nothing a
/// user wrote is overwritten.
pub fn write_output(path: &Path, text: &str, marker: &str) -> Result<(), String> {
    let shown = path.display();
    if path.exists() {
        let old = std::fs::read_to_string(path).unwrap_or_default();
        if !old.contains(marker) {
            return Err(format!(
                "{shown}: exists and was not written by mountfuzz; not overwriting it"
            ));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{shown}: {e}"))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("{shown}: cannot write: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("{shown}: cannot rename into place: {}", e.error))?;
    Ok(())
}

/// Escapes text for XML and HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
