#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60).
# Sanitizer: AddressSanitizer on nightly when a nightly toolchain is present, else none on
# stable (override with FUZZ_SANITIZER=none|address). Fuzzing works in a scratch corpus
# (fuzz/target/corpus/<target>, seeded from fuzz/corpus/<target>), so the committed corpus keeps
# only seeds. A crash is minimised and saved under fuzz/regressions/<target>/, where
# tests/fuzz_regressions.rs replays it on every `cargo test`; the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
toolchain=()
sanitizer="${FUZZ_SANITIZER:-}"
if [ -z "$sanitizer" ]; then
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then sanitizer=address; else sanitizer=none; fi
fi
[ "$sanitizer" = address ] && toolchain=(+nightly)
failed=0
for t in schedule mount_spec containerfile lint; do
  work="target/corpus/$t"
  mkdir -p "$work" "regressions/$t"
  cp -n corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== fuzz $t for ${secs}s (sanitizer $sanitizer)"
  if ! cargo "${toolchain[@]}" fuzz run --sanitizer "$sanitizer" "$t" "$work" -- \
      -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 | tail -n 12; then
    crash=$(ls -t artifacts/"$t"/crash-* 2>/dev/null | head -n 1 || true)
    if [ -n "$crash" ]; then
      cargo "${toolchain[@]}" fuzz tmin --sanitizer "$sanitizer" "$t" "$crash" -- -runs=2000 >/dev/null 2>&1 || true
      min=$(ls -t artifacts/"$t"/minimized-from-* 2>/dev/null | head -n 1 || true)
      cp "${min:-$crash}" "regressions/$t/"
      echo "NEW CRASH in $t: saved as regressions/$t/$(basename "${min:-$crash}") (commit it; tests/fuzz_regressions.rs replays it)"
    fi
    failed=1
  fi
done
exit "$failed"
