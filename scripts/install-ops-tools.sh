#!/bin/sh
# Tools the deploy/ tests drive (Debian): promtool (package prometheus) checks the alert rules
# and every service's /metrics, kubectl (package kubernetes-client) renders the Kubernetes
# manifests with kustomize, docker-compose 1.29 parses deploy/compose.yaml (no engine needed).
# Run as root: sudo sh scripts/install-ops-tools.sh
set -eu
apt-get update
apt-get install -y prometheus kubernetes-client docker-compose
