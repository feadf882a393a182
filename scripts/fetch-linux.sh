#!/bin/bash
# Fetch Debian's cloud kernel (linux-image-cloud-amd64) without installing it:
# resolve the metapackage to the real linux-image-<abi>-cloud-amd64 package,
# `apt-get download` it and `dpkg-deb -x` it into a cache under
# $BUILD_DIR/cache/linux/. Prints the absolute path of the vmlinuz on stdout
# (everything else goes to stderr). A second run uses the cache: no network.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/fetch-linux.sh [--refresh] [--help]

Downloads Debian's linux-image-cloud-amd64 kernel package (resolving the
metapackage to the real linux-image-*-cloud-amd64 package), extracts it with
dpkg-deb -x under $BUILD_DIR/cache/linux/<package>_<version>/ (never installs
it) and prints the path of its vmlinuz. Cached: later runs print the cached path
at once without touching the network.

  --refresh   ignore the cache and resolve the newest package again
Environment:
  BUILD_DIR         build directory (default: build, relative to the repository)
  HUSK_LINUX_CACHE  cache directory (default: $BUILD_DIR/cache/linux)
  HUSK_LINUX_META   metapackage to resolve (default: linux-image-cloud-amd64)
EOF
}

refresh=0
for arg in "$@"; do
	case "$arg" in
	--refresh) refresh=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "fetch-linux.sh: unknown argument: $arg" >&2
		usage >&2
		exit 1
		;;
	esac
done

log() { echo "fetch-linux.sh: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-build}
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
cache=${HUSK_LINUX_CACHE:-$build_dir/cache/linux}
meta=${HUSK_LINUX_META:-linux-image-cloud-amd64}
link="$cache/vmlinuz"

if ((!refresh)) && [[ -f "$link" ]]; then
	readlink -f "$link"
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (a Debian host is needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

SUDO=()
if ((EUID != 0)) && command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
fi

# The real package the metapackage depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve() {
	apt-cache depends --important "$meta" 2>/dev/null |
		sed -n 's/^ *\(Pre\)\{0,1\}Depends: \(linux-image-[^ ]*\)$/\2/p' | head -n1
}
pkg=$(resolve || true)
if [[ -z "$pkg" ]] || ((refresh)); then
	log "updating the apt package lists"
	DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get update -q >&2 ||
		die "apt-get update failed (no network or no Debian mirror?)"
	pkg=$(resolve || true)
fi
[[ -n "$pkg" ]] || die "cannot resolve $meta to a linux-image package (apt-cache depends $meta)"

version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
[[ -n "$version" && "$version" != "(none)" ]] || die "no installable version of $pkg"
dest="$cache/${pkg}_${version}"

if [[ ! -f "$dest/.done" ]]; then
	log "downloading $pkg $version"
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download drops privileges to _apt for the download: let it write.
	chmod 0777 "$tmp"
	(cd "$tmp" && apt-get download -q "$pkg=$version" >&2) ||
		die "apt-get download $pkg=$version failed (no network or no Debian mirror?)"
	deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
	[[ -n "$deb" ]] || die "apt-get download produced no .deb"
	rm -rf "$dest"
	mkdir -p "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x"
	touch "$tmp/x/.done"
	mv "$tmp/x" "$dest"
fi

vmlinuz=$(find "$dest/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit 2>/dev/null || true)
[[ -n "$vmlinuz" && -f "$vmlinuz" ]] || die "no boot/vmlinuz-* in $pkg"
ln -sfn "${vmlinuz#"$cache"/}" "$link"
log "$pkg $version cached in $dest"
readlink -f "$link"
