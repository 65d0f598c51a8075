#!/usr/bin/env bash
# The test command: lint, type-check, then unit and integration tests against a real
# Prometheus and a real (embedded, unless TEST_DATABASE_URL is set) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/helm.sh          # helm for the chart's render test
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/hadolint Dockerfile
exec .venv/bin/pytest -q "$@"
