//! Slash-separated path arithmetic as Go's `path.Clean` / `filepath.Join` do it, so derived cache
//! paths match the engines' byte for byte.

/// Go's `path.Clean`: one slash between elements, no `.`, `..` resolved lexically, `.` for empty.
pub fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for el in p.split('/') {
        match el {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(el),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Go's `filepath.Join(a, b)`: the two joined with a slash, then cleaned; empty parts dropped.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// `p` as seen from `dir` (a shell's cwd, a WORKDIR): absolute paths stand for themselves,
/// relative ones are joined to `dir`. Unlike [`join`], which always concatenates.
pub fn resolve(dir: &str, p: &str) -> String {
    if p.starts_with('/') {
        clean(p)
    } else {
        join(if dir.is_empty() { "/" } else { dir }, p)
    }
}

/// Whether `p` names `parent` or something below it, lexically.
pub fn is_within(p: &str, parent: &str) -> bool {
    let (p, parent) = (clean(p), clean(parent));
    p == parent || parent == "/" || p.starts_with(&format!("{parent}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (i, o) in [
            ("", "."),
            ("/", "/"),
            ("/test/", "/test"),
            ("/test/../foo/", "/foo"),
            ("a/../b/./c", "b/c"),
            ("../../escape", "../../escape"),
            ("/../x", "/x"),
            ("a//b", "a/b"),
            ("..", ".."),
        ] {
            assert_eq!(clean(i), o, "clean({i:?})");
        }
    }

    #[test]
    fn join_escapes_like_filepath_join() {
        assert_eq!(join("/t/buildah-cache", "../../escape"), "/escape");
        assert_eq!(join("/t/x/buildah-cache", "../../escape"), "/t/escape");
        assert_eq!(join("/t/buildah-cache", "/abs/x"), "/t/buildah-cache/abs/x");
        assert!(!is_within("/t/escape", "/t/x/buildah-cache"));
        assert!(is_within("/t/c/b/c", "/t/c"));
        assert!(!is_within("/t/cc", "/t/c"));
        assert_eq!(resolve("/w", "/w/sub/g"), "/w/sub/g");
        assert_eq!(resolve("/w", "sub/../g"), "/w/g");
        assert_eq!(resolve("", "x"), "/x");
    }
}
