#!/usr/bin/env bash
# The demo: a local Prometheus with a synthetic week for three clusters, backfilled into the
# embedded PostgreSQL, then the daily cost table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/k8s-cost-etl demo "$@"
