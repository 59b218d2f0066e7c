#!/usr/bin/env bash
# loom model checking of the thread-safe store (tests/loom.rs) and of the engines' own lock
# layers (tests/loom_engines.rs), in its own target dir.
# Bounds: LOOM_MAX_PREEMPTIONS (default 3): how many times a thread may be preempted while
# another is runnable in one interleaving; LOOM_MAX_BRANCHES (default 1000): how many
# scheduling choices one interleaving may make before loom gives up on it.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export LOOM_MAX_BRANCHES="${LOOM_MAX_BRANCHES:-1000}"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
  cargo test --release --test loom --test loom_engines -- --nocapture --test-threads=2 "$@"
