# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the scripts in this folder. Sourced, never executed.

# Everything the rig builds or downloads lives here, outside the checkout.
HMM_P2P_CACHE=${HMM_P2P_CACHE:-/var/cache/hmm-p2p}
ROOTS_DIR=$HMM_P2P_CACHE/roots
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, dkms)"; }

# The package version, from its single source of truth.
pkg_version() { sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf"; }

# Kernel ABI name (uname -r) of a short version such as 7.3.4, from kernels.conf.
kernel_abi() {
	awk -v v="$1" '$1 == v { print $2 }' "$TOP/scripts/kernels.conf"
}
kernel_root() {
	awk -v v="$1" '$1 == v { print $3 }' "$TOP/scripts/kernels.conf"
}

# Run a command inside a cached root with the pseudo file systems it needs.
# The mounts are private to this invocation (unshare) so nothing leaks on error.
in_root() {
	local root=$1
	shift
	unshare --mount --propagation private -- /bin/bash -c '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs tmpfs "$root/dev/shm"
		mount -t tmpfs tmpfs "$root/run"
		mount -t tmpfs tmpfs "$root/tmp"
		[ -e /dev/kvm ] && mount --bind /dev/kvm "$root/dev/kvm" 2>/dev/null
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$root" "$@"
}
