#!/usr/bin/env bash
# What CI runs: dependencies, the whole test suite, a short run of each
# fuzz target, then the suite again under ASan + UBSan + LeakSanitizer.
# Measured on 2 cores: make test ~4 min, fuzz ~0.5 min, make asan ~6 min.
set -euo pipefail
bash ci/deps.sh
make test
make fuzz FUZZ_SECONDS="${CI_FUZZ_SECONDS:-10}"
make asan
