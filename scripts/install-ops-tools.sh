#!/bin/sh
# Kept for the operations guide: the deploy tools are installed with the test tools.
exec sh "$(dirname "$0")/install-test-tools.sh"
