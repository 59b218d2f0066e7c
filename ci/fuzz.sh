#!/usr/bin/env bash
# Runs every cargo-fuzz target.
#   ci/fuzz.sh SECONDS   each target for SECONDS (default 60), from a random seed: the nightly job.
#   ci/fuzz.sh smoke     each target for a fixed number of runs from seed 1: CI's smoke. The work
#                        is the same on every machine, whatever its speed, and starts from the
#                        committed seeds alone. It is close to reproducible, not exactly: coverage
#                        feedback depends on hash-map order, which differs per process (two smokes
#                        here added 3,735 and 3,774 inputs to mount_spec's corpus). The nightly
#                        job, with random seeds and 20 minutes a target, searches for new crashes.
# Sanitizer: AddressSanitizer on nightly when a nightly toolchain is present, else none on
# stable (override with FUZZ_SANITIZER=none|address). Fuzzing works in a scratch corpus
# (fuzz/target/corpus/<target>, seeded from fuzz/corpus/<target>), so the committed corpus keeps
# only seeds; the smoke starts from the committed seeds alone. A crash is minimised and saved under
# fuzz/regressions/<target>/, where tests/fuzz_regressions.rs replays it on every `cargo test`;
# its panic message is printed, and the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
mode="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
toolchain=()
sanitizer="${FUZZ_SANITIZER:-}"
if [ -z "$sanitizer" ]; then
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then sanitizer=address; else sanitizer=none; fi
fi
[ "$sanitizer" = address ] && toolchain=(+nightly)
# Smoke runs per target: about 20 s each on a 2-core CI machine (the targets differ 200-fold in speed).
declare -A smoke_runs=([schedule]=6000 [mount_spec]=1500000 [containerfile]=40000 [lint]=6000)
failed=0
for t in schedule mount_spec containerfile lint; do
  mkdir -p "regressions/$t"
  if [ "$mode" = smoke ]; then
    work="target/smoke/$t"
    rm -rf "$work"
    limits=(-seed=1 -runs="${smoke_runs[$t]}")
    what="${smoke_runs[$t]} runs from seed 1"
  else
    work="target/corpus/$t"
    limits=(-max_total_time="$mode")
    what="${mode}s"
  fi
  mkdir -p "$work"
  cp -n corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== fuzz $t for $what (sanitizer $sanitizer)"
  log="target/fuzz-$t.log"
  if ! cargo "${toolchain[@]}" fuzz run --sanitizer "$sanitizer" "$t" "$work" -- \
      "${limits[@]}" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 12 "$log"
    grep -m 3 -A 4 'panicked at' "$log" || true
    crash=$(ls -t artifacts/"$t"/crash-* 2>/dev/null | head -n 1 || true)
    if [ -n "$crash" ]; then
      cargo "${toolchain[@]}" fuzz tmin --sanitizer "$sanitizer" "$t" "$crash" -- -runs=2000 >/dev/null 2>&1 || true
      min=$(ls -t artifacts/"$t"/minimized-from-* 2>/dev/null | head -n 1 || true)
      cp "${min:-$crash}" "regressions/$t/"
      echo "NEW CRASH in $t: saved as regressions/$t/$(basename "${min:-$crash}") (commit it; tests/fuzz_regressions.rs replays it)"
      echo "its bytes, base64: $(base64 -w0 "${min:-$crash}")"
    fi
    failed=1
  else
    tail -n 6 "$log"
  fi
done
exit "$failed"
