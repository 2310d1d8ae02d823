#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Vagrantfile parses and validates (providers are not available on the
# machines that run this suite: no hardware virtualisation).
set -uo pipefail
cd "$(dirname "$0")/../../vagrant"
if ! command -v vagrant >/dev/null; then
	echo "not ok - vagrant validate (vagrant is not installed: scripts/install-deps.sh)"
	exit 1
fi
if out=$(vagrant validate -p 2>&1) && grep -q "validated successfully" <<<"$out"; then
	echo "ok - vagrant validate -p: Vagrantfile validated"
else
	echo "not ok - vagrant validate -p: $out"
	exit 1
fi
