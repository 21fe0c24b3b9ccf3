#!/bin/sh
# run.sh BUILD — mugaid's end-to-end tests through a real Postfix. Installs
# postfix and swaks when missing (postfix preseeded "No configuration", so
# no system mail server is set up), then runs tests/e2e with pytest. Needs
# root: it starts a private Postfix instance, creates the `mugai` user when
# missing and mounts a small tmpfs for the state directory.
set -eu
build=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: skipped (needs root for a private Postfix instance)" >&2
	exit 0
fi
command -v postfix >/dev/null 2>&1 && command -v swaks >/dev/null 2>&1 || ./scripts/deps.sh postfix swaks
MUGAI=$(pwd)/$build/mugai MUGAID=$(pwd)/$build/mugaid \
	timeout 600 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e
