#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The VM tier of `make check`: boots the stock Debian 6.1 kernel (sch_netem,
# fq, ifb... as modules) once under qemu and runs, inside it, the qdisc
# module's kernel test, the netem end-to-end tests, and the first slice's
# end-to-end tests a second time, so every fault is proven on two kernels.
# Prints the guest's TAP lines prefixed with "vm:".
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${NC_BUILD:-$PWD/build}
exec tests/vm/run.sh --mem 1536 --timeout "${NC_VM_SUITE_TIMEOUT:-2400}" \
	--env NC_BUILD="$BUILD" --env CMOCKA_MESSAGE_OUTPUT=TAP \
	-- tests/vm/guest-suite.sh
