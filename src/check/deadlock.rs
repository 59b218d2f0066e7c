//! Oracle: deadlock. Every unfinished test is blocked; the report names who waits for whom.

/// A wait-for description: for each blocked test, the tests it waits on.
pub fn describe(names: &[String], waits: &[(usize, Vec<usize>)]) -> String {
    let parts: Vec<String> = waits
        .iter()
        .map(|(t, on)| {
            let on: Vec<&str> = on.iter().map(|o| names[*o].as_str()).collect();
            if on.is_empty() {
                format!("{} waits (on nobody it can name)", names[*t])
            } else {
                format!("{} waits for {}", names[*t], on.join(", "))
            }
        })
        .collect();
    format!("every unfinished test is blocked: {}", parts.join("; "))
}
