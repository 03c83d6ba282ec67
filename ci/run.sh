#!/usr/bin/env bash
# What CI runs: dependencies, then the whole test suite.
set -euo pipefail
bash ci/deps.sh
make test
