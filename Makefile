# SPDX-License-Identifier: GPL-2.0-only
#
# hmm-p2p. The kernel build reads Kbuild; this Makefile is the user's entry
# point. dkms runs "make KDIR=... modules KERNELRELEASE=<kver>".
#
#   make                      build for the running kernel
#   make KERNELRELEASE=7.3.4+deb13-amd64   or   make KDIR=/path/to/build
#   make demo                 the VM demo (install, modprobe, benchmark)
#   make check                the whole test suite (what CI runs)
#   make check-full           make check plus the built kernel tiers (builds
#                             the 6.12 and debug 7.3 kernels on first use)
#   make check-build          dkms build matrix over the Debian kernels
#   make tool                 the status tool hmm-p2p(8) (tools/hmm-p2p)
#   make sign                 sign the built modules with dkms's MOK key
#   make checkpatch / make clang-format-check

ifneq ($(KBUILD_EXTMOD),)
include $(src)/Kbuild
else

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
PWD := $(shell pwd)
# Build with the compiler the kernel was built with (Debian pins it in the
# headers, e.g. gcc-14 for 7.x): avoids the "compiler differs" warning.
MAKEFLAGS += --no-print-directory

.PHONY: all modules tests tool clean sign demo check check-full check-build checkpatch \
	clang-format-check install help

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

tests:
	$(MAKE) -C $(KDIR) M=$(PWD) HMM_P2P_TESTS=1 modules
	$(MAKE) -C tests/user
	$(MAKE) -C tests/bench
	$(MAKE) -C tools/hmm-p2p

tool:
	$(MAKE) -C tools/hmm-p2p

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf compat/generated
	$(MAKE) -C tests/user clean
	$(MAKE) -C tests/bench clean
	$(MAKE) -C tools/hmm-p2p clean

install:
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install

# Sign with the key dkms uses (bookworm: /var/lib/dkms/mok.key + mok.pub;
# trixie: the same unless /etc/dkms/framework.conf says otherwise).
-include /etc/dkms/framework.conf
mok_signing_key ?= /var/lib/dkms/mok.key
mok_certificate ?= /var/lib/dkms/mok.pub
SIGN_FILE ?= $(firstword $(wildcard $(KDIR)/scripts/sign-file \
	/usr/lib/linux-kbuild-$(basename $(KERNELRELEASE))/scripts/sign-file))
sign: modules
	@test -r "$(mok_signing_key)" || { echo "no key $(mok_signing_key): run 'dkms generate_mok' (trixie) or install once with dkms (bookworm)"; exit 1; }
	@for m in *.ko; do \
		echo "  SIGN    $$m"; \
		"$(SIGN_FILE)" sha256 "$(mok_signing_key)" "$(mok_certificate)" "$$m" || exit 1; \
	done

demo:
	scripts/demo

check:
	scripts/check

check-full:
	scripts/check --full

check-build:
	scripts/check-build

checkpatch:
	scripts/lint checkpatch

clang-format-check:
	scripts/lint clang-format

help:
	@sed -n '3,15p' Makefile
endif
