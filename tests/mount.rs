//! The `--mount=` grammar: every error path per dialect, round-trip and no-panic properties.

use mountfuzz::mount::{Dialect, MountSpec, MountType, Sharing, display, parse};
use proptest::prelude::*;

fn rejects(d: Dialect, input: &str, option: &str, problem_has: &str) {
    let e = parse(input, d).expect_err(input);
    assert_eq!(e.option, option, "{input:?} in {d:?}: {e}");
    assert!(
        e.problem.contains(problem_has),
        "{input:?} in {d:?}: {e} lacks {problem_has:?}"
    );
    assert!(e.to_string().contains(option), "message names the key: {e}");
}

#[test]
fn buildkit_errors() {
    use Dialect::BuildKit as B;
    rejects(B, "type=cache,target=/x,bogus", "bogus", "unexpected key");
    rejects(B, "type=cache,target=/x,bogus=1", "bogus", "unexpected key");
    rejects(B, "type=weird,target=/x", "type", "unsupported mount type");
    rejects(B, "type=cache,target=/x,ro=maybe", "ro", "invalid value");
    rejects(
        B,
        "type=cache,target=/x,sharing=weird",
        "sharing",
        "unsupported sharing",
    );
    rejects(B, "type=cache,target=/x,mode=89", "mode", "invalid value");
    rejects(B, "type=cache,target=/x,uid=abc", "uid", "invalid value");
    rejects(B, "type=cache,target=/x,gid=-1", "gid", "invalid value");
    rejects(
        B,
        "type=bind,target=/x,sharing=locked",
        "type",
        "only valid for cache",
    );
    rejects(
        B,
        "type=tmpfs,target=/x,mode=0755",
        "type",
        "not valid for this mount type",
    );
    rejects(B, "type=cache", "target", "required");
    rejects(B, "type=cache,target=/", "target", "invalid mount target");
    let e = parse("type=cache,target=/x,sharing=weird", B).unwrap_err();
    assert_eq!(e.value.as_deref(), Some("weird"));
}

#[test]
fn buildkit_accepts_its_spellings() {
    let s = parse(
        "TYPE=cache,DST=/x,Sharing=LOCKED,ro=false,readonly,mode=0700,uid=1,gid=2,id=a=b",
        Dialect::BuildKit,
    )
    .unwrap();
    assert_eq!(s.kind, MountType::Cache);
    assert_eq!(s.target, "/x");
    assert_eq!(s.sharing, Sharing::Locked);
    assert!(s.readonly);
    assert_eq!((s.mode, s.uid, s.gid), (Some(0o700), Some(1), Some(2)));
    assert_eq!(s.id.as_deref(), Some("a=b"));
    let empty = parse("type=cache,target=/x,sharing=", Dialect::BuildKit).unwrap();
    assert_eq!(empty.sharing, Sharing::Shared, "empty sharing means shared");
    assert_eq!(
        parse("target=/x", Dialect::BuildKit).unwrap().kind,
        MountType::Bind,
        "BuildKit's default type is bind"
    );
    let p = parse("type=cache,target=/x,sharing=private", Dialect::BuildKit).unwrap();
    assert_eq!(p.sharing, Sharing::Private);
}

#[test]
fn buildah_errors() {
    for d in [Dialect::Buildah, Dialect::Buildah128] {
        rejects(
            d,
            "type=cache,target=/x,bogus=1",
            "bogus",
            "invalid mount option",
        );
        rejects(
            d,
            "type=cache,target=/x,bogus",
            "bogus",
            "invalid mount option",
        );
        rejects(
            d,
            "type=cache,target=/x,TARGET=/y",
            "TARGET",
            "invalid mount option",
        );
        rejects(
            d,
            "type=cache,target=/x,id",
            "id",
            "must provide an argument",
        );
        rejects(d, "type=cache,target", "target", "must provide an argument");
        rejects(
            d,
            "type=cache,id=x",
            "target",
            "must set volume destination",
        );
        rejects(
            d,
            "type=cache,target=/x,sharing=weird",
            "sharing",
            "unrecognized value",
        );
        rejects(
            d,
            "type=cache,target=/x,sharing=private",
            "sharing",
            "unrecognized value",
        );
        rejects(
            d,
            "type=cache,target=/x,sharing=",
            "sharing",
            "unrecognized value",
        );
        rejects(
            d,
            "type=cache,target=/x,mode=9",
            "mode",
            "unable to parse cache mode",
        );
        rejects(
            d,
            "type=cache,target=/x,uid=abc",
            "uid",
            "unable to parse cache uid",
        );
        rejects(
            d,
            "type=cache,target=/x,gid=x",
            "gid",
            "unable to parse cache gid",
        );
        rejects(d, "type=nope,target=/x", "type", "invalid filesystem type");
    }
    use Dialect::{Buildah as Cur, Buildah128 as Old};
    rejects(
        Cur,
        "type=cache,target=/x,ro=true",
        "ro",
        "does not take an argument",
    );
    rejects(
        Cur,
        "type=cache,target=/x,z=1",
        "z",
        "does not take an argument",
    );
    rejects(
        Cur,
        "type=cache,target=/x,id=",
        "id",
        "must provide an argument",
    );
    rejects(
        Cur,
        "type=cache,target=/x,sharing",
        "sharing",
        "must provide an argument",
    );
    rejects(Old, "type=cache,target=/x,sharing", "sharing", "crashes");
    rejects(Old, "type=cache,target=/x,rw", "rw", "only specify 1");
    rejects(Old, "type=cache,target=/x,rw=true", "rw", "only specify 1");
}

#[test]
fn buildah_128_leniencies_seen_with_the_real_binary() {
    let s = parse("type=cache,target=/x,ro=true", Dialect::Buildah128).unwrap();
    assert!(s.readonly);
    let s = parse("type=cache,target=/x,id=", Dialect::Buildah128).unwrap();
    assert_eq!(s.id, None, "empty id falls back to the target");
    let s = parse("type=cache,target=/x,private,z", Dialect::Buildah).unwrap();
    assert_eq!(s.sharing, Sharing::Shared, "bare private is propagation");
    assert_eq!(s.flags, vec!["private".to_string(), "z".to_string()]);
}

fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._/=-]{1,10}"
}

fn spec(d: Dialect) -> impl Strategy<Value = MountSpec> {
    let sharing = if d == Dialect::BuildKit {
        prop::sample::select(Sharing::ALL.to_vec()).boxed()
    } else {
        prop::sample::select(vec![Sharing::Shared, Sharing::Locked]).boxed()
    };
    let flags = if d == Dialect::BuildKit {
        Just(Vec::new()).boxed()
    } else {
        prop::sample::subsequence(
            vec![
                "z", "Z", "U", "nosuid", "nodev", "noexec", "rshared", "private", "slave",
            ],
            0..4,
        )
        .prop_map(|v| v.into_iter().map(String::from).collect())
        .boxed()
    };
    (
        "/[a-zA-Z0-9._-]{1,10}(/[a-z]{1,3})?",
        prop::option::of(value()),
        prop::option::of(value()),
        prop::option::of(value()),
        any::<bool>(),
        sharing,
        prop::option::of(0u32..0o7777),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        flags,
    )
        .prop_map(
            |(target, id, source, from, readonly, sharing, mode, uid, gid, flags)| MountSpec {
                kind: MountType::Cache,
                target,
                id,
                source,
                from,
                readonly,
                sharing,
                mode,
                uid,
                gid,
                flags,
            },
        )
}

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/mount.txt", 256))]

    #[test]
    fn buildkit_display_round_trips(s in spec(Dialect::BuildKit)) {
        let text = display(&s, Dialect::BuildKit);
        prop_assert_eq!(parse(&text, Dialect::BuildKit), Ok(s), "{}", text);
    }

    #[test]
    fn buildah_display_round_trips(s in spec(Dialect::Buildah)) {
        let text = display(&s, Dialect::Buildah);
        prop_assert_eq!(parse(&text, Dialect::Buildah), Ok(s.clone()), "{}", text);
        let text = s.to_string();
        prop_assert_eq!(parse(&text, Dialect::Buildah128), Ok(s), "{}", text);
    }

    #[test]
    fn parse_never_panics(input in ".*") {
        for d in [Dialect::BuildKit, Dialect::Buildah, Dialect::Buildah128] {
            let _ = parse(&input, d);
        }
    }

    #[test]
    fn parse_never_panics_on_option_soup(
        parts in prop::collection::vec(
            "(type|target|id|sharing|mode|uid|gid|ro|rw|z|from|src|TYPE|Sharing)(=[a-z0-9/]{0,4})?",
            0..8,
        )
    ) {
        let input = parts.join(",");
        for d in [Dialect::BuildKit, Dialect::Buildah, Dialect::Buildah128] {
            if let Err(e) = parse(&input, d) {
                prop_assert!(!e.problem.is_empty());
            }
        }
    }
}
