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

# The kernels the rig boots and builds against, one "short abi root" line
# each in kernels.conf's order: the build scripts/resolve-kernels chose from
# the archive for that series (the tested build of kernels.conf where the
# archive still has it), or kernels.conf's line before any root resolved it.
kernels_table() {
	local short abi where got
	while read -r short abi where; do
		case $short in '#'* | '') continue ;; esac
		got=$(awk -v s="$short" '$4 == s { print $1, $2, $3; exit }' \
			"$HMM_P2P_CACHE/kernels-$where.resolved" 2>/dev/null)
		echo "${got:-$short $abi $where}"
	done <"$TOP/scripts/kernels.conf"
}

# Kernel ABI name (uname -r) of a short version such as 7.3.4, from
# kernels_table, or of a built tier (older-api, debug: see build-kernel),
# which lives in the trixie root.
kernel_abi() {
	if tier_series "$1" >/dev/null; then
		tier_abi "$1"
	else
		kernels_table | awk -v v="$1" '$1 == v { print $2 }'
	fi
}
kernel_root() {
	if tier_series "$1" >/dev/null; then
		echo trixie
	else
		kernels_table | awk -v v="$1" '$1 == v { print $3 }'
	fi
}
# The bootable 7.x kernels (short names), the first is the default.
vm_kernels() { kernels_table | awk '$1 ~ /^7\./ && $3 == "trixie" { print $1 }'; }

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
		for b in $IN_ROOT_BINDS; do
			mkdir -p "$root/${b#*:}"
			mount --bind "${b%%:*}" "$root/${b#*:}"
		done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$root" "$@"
}
export IN_ROOT_BINDS

# Extra bind mounts for in_root, as "hostdir:rootdir" words (set by callers).
IN_ROOT_BINDS=${IN_ROOT_BINDS:-}

# Serialise everything that mutates the shared roots or boots a VM: the
# machine has 2 cores and the roots are shared between runs.
rig_lock() {
	mkdir -p "$HMM_P2P_CACHE"
	exec 9>"$HMM_P2P_CACHE/rig.lock"
	flock 9
}

# The trixie root holds every 7.x kernel, 6.12 headers and the VM tooling;
# the bookworm root holds 6.1 headers and bookworm's dkms 3.0.10.
root_dir() { echo "$ROOTS_DIR/$1"; }

# Copy the working tree (tracked and untracked, not ignored) to $1.
copy_tree() {
	rm -rf "$1"
	mkdir -p "$1"
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -co --exclude-standard -z |
			tar --null --ignore-failed-read -cf - -T - 2>/dev/null) |
			tar -xf - -C "$1"
	else
		(cd "$TOP" && tar --exclude=.git -cf - .) | tar -xf - -C "$1"
	fi
}

# The emulated machine of DESIGN.md section 4: two ivshmem "GPUs" and an edu
# DMA client behind one PCIe switch (P2P possible), and a second edu on its
# own root port (P2P impossible). VRAM files live in the root's /dev/shm.
vm_topology() {
	local gpus="" i
	for i in 0 1; do
		gpus="$gpus -object memory-backend-file,id=vram$i,size=64M,mem-path=/dev/shm/hmm-p2p-vram$i,share=on"
	done
	echo "-machine q35 $gpus" \
		"-device pcie-root-port,id=rp1,chassis=1,slot=1" \
		"-device x3130-upstream,id=up1,bus=rp1" \
		"-device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0" \
		"-device xio3130-downstream,id=dn2,bus=up1,chassis=3,slot=1" \
		"-device xio3130-downstream,id=dn3,bus=up1,chassis=5,slot=2" \
		"-device ivshmem-plain,memdev=vram0,bus=dn1" \
		"-device edu,bus=dn2,dma_mask=0xffffffffffffffff" \
		"-device ivshmem-plain,memdev=vram1,bus=dn3" \
		"-device pcie-root-port,id=rp2,chassis=4,slot=2" \
		"-device edu,bus=rp2,dma_mask=0xffffffffffffffff"
}

# Does KVM work here? Boot the kernel without a root file system: with KVM
# it panics ("VFS: Unable to mount root") within seconds and qemu exits.
# Nested virtualisation on these machines fails that test (MSR errors or
# "emulation failure"), so TCG is used. Cached per boot of the host.
kvm_works() {
	local root=$1 abi=$2 cache
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	cache=$HMM_P2P_CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)
	if [ ! -f "$cache" ]; then
		if in_root "$root" timeout 30 qemu-system-x86_64 -machine q35,accel=kvm \
			-cpu host -m 256 -display none -serial stdio -no-reboot \
			-kernel "/boot/vmlinuz-$abi" -append "console=ttyS0 panic=-1" \
			2>&1 | grep -q "Unable to mount root"; then
			echo yes >"$cache"
		else
			echo no >"$cache"
		fi
	fi
	[ "$(cat "$cache")" = yes ]
}

# Replace every hmm-p2p in a root's dkms tree by the working tree, added
# (dkms add) as version $(pkg_version), as a user would put it there.
dkms_readd() { # root
	local root=$1 ver
	ver=$(pkg_version)
	in_root "$root" sh -c '
		for v in $(dkms status hmm-p2p 2>/dev/null | sed -n "s|^hmm-p2p/\([^,:]*\).*|\1|p" | sort -u); do
			dkms remove "hmm-p2p/$v" --all
		done' >/dev/null 2>&1
	rm -rf "$root"/usr/src/hmm-p2p-*
	copy_tree "$root/usr/src/hmm-p2p-$ver"
	in_root "$root" dkms add "hmm-p2p/$ver" >/dev/null 2>&1
}

# Kernel tiers built from Debian's sources by build-kernel (issue 7): the
# linux-source series each is built from, and the ABI of a built one (empty
# while it is not built).
tier_series() {
	case $1 in
	older-api) echo 6.12 ;;
	debug) echo 7.3 ;;
	*) return 1 ;;
	esac
}
tier_abi() {
	local d=$HMM_P2P_CACHE/kernels/$1
	[ -f "$d/done" ] && cat "$d/abi" 2>/dev/null
}
