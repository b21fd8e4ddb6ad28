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
# Only the packages whose tool is missing: a machine may have one from elsewhere (kubectl from
# Google's or Kubernetes' own repository), and installing Debian's over it fails the whole
# apt transaction ("trying to overwrite '/usr/bin/kubectl'"), leaving the rest unconfigured.
packages=""
command -v promtool >/dev/null 2>&1 || packages="$packages prometheus"
command -v kubectl >/dev/null 2>&1 || packages="$packages kubernetes-client"
command -v docker-compose >/dev/null 2>&1 || packages="$packages docker-compose"
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || packages="$packages chromium"
# A previous run that was cut short leaves packages unpacked but not configured.
dpkg --configure -a
if [ -z "$packages" ]; then
  echo "test tools: all installed"
  exit 0
fi
apt-get update
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get install -y --no-install-recommends $packages
