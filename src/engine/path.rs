//! Slash-separated path arithmetic as Go's `path.Clean` / `filepath.Join` do it, so derived cache
//! paths match the engines' byte for byte.

/// Go's `path.Clean`: one slash between elements, no `.`, `..` resolved lexically, `.` for empty.
pub fn clean(p: &str) -> String {
    cleaned(p).into_owned()
}

/// Whether `p` is its own [`clean`] form (the common case, checked without allocating).
fn is_clean(p: &str) -> bool {
    if p == "/" {
        return true;
    }
    let body = p.strip_prefix('/').unwrap_or(p);
    !body.is_empty()
        && body
            .split('/')
            .all(|el| !el.is_empty() && el != "." && el != "..")
}

/// [`clean`], borrowing `p` when it is clean already.
fn cleaned(p: &str) -> std::borrow::Cow<'_, str> {
    if is_clean(p) {
        std::borrow::Cow::Borrowed(p)
    } else {
        std::borrow::Cow::Owned(clean_slow(p))
    }
}

/// The element-by-element algorithm behind [`clean`].
fn clean_slow(p: &str) -> String {
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

/// A `source=` value as the relative subdirectory it names (`/a/../b/` → `b`; none or `/` →
/// empty).
pub fn subpath(source: Option<&str>) -> String {
    match source {
        Some(s) => clean(&format!("/{s}")).trim_start_matches('/').to_string(),
        None => String::new(),
    }
}

/// Whether `p` names `parent` or something below it, lexically.
pub fn is_within(p: &str, parent: &str) -> bool {
    let (p, parent) = (cleaned(p), cleaned(parent));
    p == parent
        || parent == "/"
        || (p.len() > parent.len() && p.starts_with(&*parent) && p.as_bytes()[parent.len()] == b'/')
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

    proptest::proptest! {
        #![proptest_config(crate::testing::proptest_config("proptest-regressions/path.txt", 512))]
        /// The no-allocation fast path changes nothing.
        #[test]
        fn clean_fast_path_agrees(p in "[a./]{0,12}", q in "[a./]{0,8}") {
            proptest::prop_assert_eq!(clean(&p), clean_slow(&p));
            let slow = {
                let (p, q) = (clean_slow(&p), clean_slow(&q));
                p == q || q == "/" || p.starts_with(&format!("{q}/"))
            };
            proptest::prop_assert_eq!(is_within(&p, &q), slow);
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
