#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs every build, test and benchmark dependency of netchaos from the
# distribution's packages (Debian 12+, Ubuntu 22.04+). Idempotent.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

BUILD_PKGS="make gcc clang llvm pkg-config libbpf-dev libnl-3-dev libnl-route-3-dev
	libelf-dev zlib1g-dev libjson-c-dev libcmocka-dev"
TEST_PKGS="iproute2 procps kmod cpio xz-utils python3 socat busybox-static qemu-system-x86 redis-server redis-tools
	docker.io iperf3 libclang-rt-14-dev"
BENCH_PKGS="gnuplot-nox iptables"
# Checked by the suite (`vagrant validate`); large, so installed on its own.
OPTIONAL_PKGS="vagrant"

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD_PKGS $TEST_PKGS $BENCH_PKGS >/dev/null

for p in $OPTIONAL_PKGS; do
	apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
		echo "install-deps.sh: optional package $p not available" >&2
done

# bpftool: its own package on Debian; part of linux-tools on Ubuntu.
if ! command -v bpftool >/dev/null 2>&1; then
	apt-get install -y -qq --no-install-recommends bpftool >/dev/null 2>&1 ||
		apt-get install -y -qq --no-install-recommends linux-tools-common \
			"linux-tools-$(uname -r)" >/dev/null 2>&1 ||
		apt-get install -y -qq --no-install-recommends linux-tools-generic >/dev/null
fi
bpftool version >/dev/null
echo "install-deps.sh: all dependencies installed"
