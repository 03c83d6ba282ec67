#!/usr/bin/env bash
# What CI runs: dependencies, the whole test suite, a short run of each
# fuzz target, the suite again under ASan + UBSan + LeakSanitizer, and the
# busiest integration tests against a ThreadSanitizer build.
# Measured on 2 cores: make test 2.3 min, fuzz 0.7 min (3 targets x 10 s
# plus build), make asan 2.5 min plus its build, the TSan part 1 min plus
# its build: about 8 min in all.
set -euo pipefail
bash ci/deps.sh
make test
make bench-micro BENCH_ARGS="--benchmark_min_time=0.01"
make fuzz FUZZ_SECONDS="${CI_FUZZ_SECONDS:-10}"
make asan
# The threaded data plane under ThreadSanitizer: the tests that drive many
# connections through both daemons at once (the whole set: make tsan).
make tsan TSAN_TESTS="t_concurrent t_interop t_fault_sigterm t_soak_short"
