#!/bin/bash
# Install the Debian 12 packages husk needs to build, test and benchmark.
# Checks with dpkg-query first: when everything is present it does nothing and
# needs no network (so repeated runs are fast and work offline).
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/install-deps.sh [--check] [--help]

Installs (with apt-get, only what is missing) the Debian 12 packages husk uses:
  build + unit tests:  build-essential cmake pkg-config libcmocka-dev
  fuzz targets:        clang libclang-rt-14-dev (libFuzzer, ASan, UBSan runtimes)
  benchmarks:          qemu-system-x86
  nested tests:        cpio busybox-static
  virtio backends:     liburing-dev (io_uring), libseccomp-dev, libfdt-dev
  API and config:      libmicrohttpd-dev (HTTP on the API socket), libjson-c-dev (JSON)
  snapshots:           zlib1g-dev (the state file's CRC-32)
  tests:               iproute2 (network namespaces, taps), e2fsprogs (ext4 images,
                       debugfs), curl (API socket client), openssl (test data),
                       strace (the durability test's fdatasync check)

  --check   only report what is missing; exit 1 if anything is
Runs apt-get update only when something has to be installed. Needs root, or
sudo when not root.
EOF
}

PACKAGES=(
	build-essential cmake pkg-config libcmocka-dev
	clang libclang-rt-14-dev
	qemu-system-x86
	cpio busybox-static
	liburing-dev libseccomp-dev libfdt-dev
	libmicrohttpd-dev libjson-c-dev
	zlib1g-dev libssl-dev
	iproute2 e2fsprogs curl openssl strace python3
	resource-agents
)

check_only=0
for arg in "$@"; do
	case "$arg" in
	--check) check_only=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "install-deps.sh: unknown argument: $arg" >&2
		usage >&2
		exit 1
		;;
	esac
done

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "install-deps.sh: missing: ${missing[*]}"
if ((check_only)); then
	exit 1
fi

SUDO=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "install-deps.sh: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps.sh: installed: ${missing[*]}"
