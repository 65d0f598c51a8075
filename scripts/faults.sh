#!/usr/bin/env bash
# The whole fault suite (tests/faults), the slow cases included: every mix of concurrent
# backfill/run/schedule processes, many random signals, many random transport faults, PostgreSQL
# killed and read-only. CI runs only the quick cases (`bash scripts/test.sh` excludes `slow`);
# run this before a release or after touching claims, locks, the run log or the write path.
# Extra arguments go to pytest (e.g. -k races). Takes about 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/pytest -q -m "slow or not slow" tests/faults "$@"
