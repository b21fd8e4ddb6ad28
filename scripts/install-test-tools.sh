#!/bin/sh
# Tools the test command drives beyond Node, Redis and PostgreSQL (Debian packages):
#   prometheus          promtool: `promtool test rules` on the alert rules, `check metrics` on
#                       every service's /metrics
#   kubernetes-client   kubectl: renders the Kubernetes manifests with kustomize
#   docker-compose      1.29: parses deploy/compose.yaml (no engine needed)
#   chromium            the status page test in headless Chromium (playwright-core drives it
#                       with executablePath; CHROMIUM_PATH overrides /usr/bin/chromium)
# scripts/test.sh runs this when a tool is missing and it may (root, apt-get); otherwise run
# it yourself: sudo sh scripts/install-test-tools.sh
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends prometheus kubernetes-client docker-compose chromium
