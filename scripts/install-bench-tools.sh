#!/bin/sh
# Tools pnpm bench:gateway drives (Debian): wrk (load) and nginx (reference reverse proxy).
set -eu
apt-get update
apt-get install -y nginx wrk
