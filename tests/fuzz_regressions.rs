//! Every fuzz seed and every crash the fuzzers ever found (`fuzz/corpus/*`, `fuzz/regressions/*`)
//! run through the same code as the fuzz targets (`mountfuzz::fuzzing`), on every `cargo test`.

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(format!("fuzz/{dir}/{target}")) else {
            continue;
        };
        for e in entries.flatten() {
            let data = std::fs::read(e.path()).unwrap();
            let r = std::panic::catch_unwind(|| f(&data));
            assert!(r.is_ok(), "{target}: {} fails again", e.path().display());
            n += 1;
        }
    }
    n
}

#[test]
fn schedule_seeds_and_crashes() {
    assert!(replay("schedule", mountfuzz::fuzzing::schedule) >= 4);
}

#[test]
fn mount_spec_seeds_and_crashes() {
    assert!(replay("mount_spec", mountfuzz::fuzzing::mount_spec) >= 6);
}

#[test]
fn containerfile_seeds_and_crashes() {
    // Four crashes the fuzzer found in the Containerfile round trip (quoting of paths, `$` in
    // mount options and WORKDIR, a command named like a target, a WORKDIR ending in a space).
    assert!(replay("containerfile", mountfuzz::fuzzing::containerfile) >= 6);
}

#[test]
fn lint_seeds_and_crashes() {
    // Seeded with every lint fixture, the typical Dockerfile and a config file.
    assert!(replay("lint", mountfuzz::fuzzing::lint) >= 30);
}
