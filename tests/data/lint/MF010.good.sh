#!/bin/sh
# lint: --engine buildah@1.39
# Each job keeps its caches apart with its own TMPDIR; the builds run locally.
for job in a b; do
  TMPDIR=/tmp/job-$job podman build -t app-$job . &
done
wait
