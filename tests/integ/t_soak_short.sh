#!/usr/bin/env bash
# A short soak (15 s; SOAK_SECONDS overrides) inside make test: mixed bulk,
# churn, tampering and resets, checksummed, with RSS/descriptor bounds.
# The long one is make soak (tests/soak.sh).
SOAK_SECONDS=${SOAK_SHORT_SECONDS:-15} exec bash "$(dirname "$0")/../soak.sh"
