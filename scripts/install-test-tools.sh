#!/bin/sh
# Tools the test command uses beyond Node, Redis and PostgreSQL (Debian): chromium, for the
# status page test in headless Chromium (playwright-core drives it with executablePath;
# CHROMIUM_PATH overrides /usr/bin/chromium), and prometheus, for `promtool check metrics`.
# Tests that need a tool the machine lacks are skipped, not failed.
set -eu
apt-get update
apt-get install -y chromium prometheus
