#!/usr/bin/env bash
# How fast the command line answers when it has nothing heavy to do: --help, a subcommand's help, and
# argument errors (a bad date, a reversed range). These must not load pandas, SQLAlchemy or the HTTP
# stack (etl/cli/parser.py). Measured from outside, whole process: farm-bench where it exists
# (median of 20 runs), else hyperfine. Run by hand: bash bench/bench_cli_start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cli=.venv/bin/k8s-cost-etl
cases=("--help" "backfill --help" "report --account a --start 2026-13-01 --end 2026-01-02"
       "export --start 2026-09-02 --end 2026-09-01 -o x.csv")
for case in "${cases[@]}"; do
  echo "== k8s-cost-etl $case"
  # shellcheck disable=SC2086
  if command -v farm-bench >/dev/null; then
    farm-bench -n 20 -- $cli $case | grep -E "exit|wall"
  else
    hyperfine --warmup 2 --runs 20 -i "$cli $case"
  fi
done
