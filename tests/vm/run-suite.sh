#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The VM tier of `make check`: boots the stock Debian 6.1 kernel (sch_netem,
# fq, ifb... as modules) once under qemu and runs, inside it, the qdisc
# module's kernel test, the netem end-to-end tests, and the first slice's
# end-to-end tests a second time, so every fault is proven on two kernels;
# then Debian 12's newer 6.12 kernel for what needs tcx (6.6+) together with
# netem: the netem, container netem and crash tests, and the attach tests.
# Prints the guest's TAP lines prefixed with "vm:".
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${NC_BUILD:-$PWD/build}
status=0
NC_VM_KSERIES=6.1 tests/vm/run.sh --mem 1536 --timeout "${NC_VM_SUITE_TIMEOUT:-2400}" \
	--env NC_BUILD="$BUILD" --env CMOCKA_MESSAGE_OUTPUT=TAP \
	-- tests/vm/guest-suite.sh || status=1
# Debian 12's newer kernel (6.12) has tcx: the classifier's tcx links with
# netem, IFB steering and containers, and the crash behaviour of both modes
NC_VM_KSERIES=6.12 tests/vm/run.sh --mem 1536 --timeout "${NC_VM_SUITE_TIMEOUT:-2400}" \
	--env NC_BUILD="$BUILD" --env CMOCKA_MESSAGE_OUTPUT=TAP --env NC_VM_TAG=vm612 \
	-- tests/vm/guest-suite.sh --tcx || status=1
exit $status
