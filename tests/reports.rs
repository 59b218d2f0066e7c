//! Reports: the HTML timeline (self-contained; in headless Chromium when installed), JUnit XML,
//! and the rule that no file a user wrote is overwritten.

use std::process::Command;

fn mountfuzz(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mountfuzz"))
        .args(args)
        .output()
        .unwrap()
}

fn default_counterexample(dir: &std::path::Path) -> (String, String) {
    let html = dir.join("cx.html");
    let junit = dir.join("cx.xml");
    let o = mountfuzz(&[
        "--seed",
        "4",
        "--no-save",
        "--html",
        html.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    (
        std::fs::read_to_string(html).unwrap(),
        std::fs::read_to_string(junit).unwrap(),
    )
}

#[test]
fn html_page_is_self_contained_with_lanes_shared_dir_and_slider() {
    let dir = tempfile::tempdir().unwrap();
    let (html, _) = default_counterexample(dir.path());
    assert!(html.contains("[0] bud-with-mount-cache-like-buildkit<"));
    assert!(
        html.contains("<title>bud-with-mount-cache-like-buildkit-locked-across-steps</title>[1] ")
    );
    assert!(html.contains(
        "Shared cache dir: <code class=\"hotdir\">/var/tmp/buildah-cache-0/78adcc621200b6ba</code>"
    ));
    assert!(
        html.matches("class=\"step hot\"").count() >= 2,
        "steps on the shared dir are highlighted"
    );
    assert!(html.contains("type=\"range\""), "a slider");
    let urls: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..i + 26])
        .collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://www.w3.org/2000/svg")),
        "no network: {urls:?}"
    );
    assert!(
        !html.contains("<link") && !html.contains(" src="),
        "nothing fetched"
    );
}

#[test]
fn html_page_renders_in_headless_chromium() {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert_ne!(
            std::env::var("MOUNTFUZZ_REQUIRE_CHROMIUM").as_deref(),
            Ok("1"),
            "chromium is required here"
        );
        eprintln!("SKIP: chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    default_counterexample(dir.path());
    let page = format!("file://{}", dir.path().join("cx.html").display());
    let profile = dir.path().join("profile");
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("bud-with-mount-cache-like-buildkit-locked-across-steps"),
        "{dom}"
    );
    assert!(dom.contains("78adcc621200b6ba"));
    // The script ran: the detail line shows the last step.
    assert!(
        dom.contains(
            "id=\"detail\">step 9 · bud-with-mount-cache-like-buildkit-locked-across-steps: read world"
        ),
        "{dom}"
    );
}

#[test]
fn junit_names_the_failing_test() {
    let dir = tempfile::tempdir().unwrap();
    let (_, xml) = default_counterexample(dir.path());
    assert!(xml.starts_with("<?xml"));
    // The prune test fails on its own remotely (a deterministic failure); the interleaving
    // search then finds the interference between two others.
    assert!(xml.contains("tests=\"5\" failures=\"2\""), "{xml}");
    assert!(xml.contains("<testcase classname=\"buildah-bud-cache\" name=\"bud-with-mount-cache-like-buildkit-with-buildah-prune\">\n      <failure type=\"expectation\" message=\"deterministic failure (fails on its own)"), "{xml}");
    assert!(xml.contains("<testcase classname=\"buildah-bud-cache\" name=\"bud-with-mount-cache-like-buildkit-locked-across-steps\">\n      <failure type=\"isolation\""), "{xml}");
    let v = dir.path().join("verify.xml");
    let o = mountfuzz(&[
        "verify",
        "--engine",
        "buildah",
        "--junit",
        v.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let xml = std::fs::read_to_string(v).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 18);
    assert_eq!(
        xml.matches("<skipped").count(),
        5,
        "private is unsupported on Buildah"
    );
}

#[test]
fn reports_never_overwrite_a_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("notes.html");
    std::fs::write(&mine, "my notes").unwrap();
    let o = mountfuzz(&["--seed", "4", "--no-save", "--html", mine.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not overwriting"));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    // Its own output it does replace.
    let ours = dir.path().join("cx.html");
    for _ in 0..2 {
        assert_eq!(
            mountfuzz(&["--seed", "4", "--no-save", "--html", ours.to_str().unwrap()])
                .status
                .code(),
            Some(1)
        );
    }
}
