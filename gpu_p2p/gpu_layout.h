/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one private amdgpu fact gpu_p2p's amdgpu rule relies on, as a number.
 *
 * amdgpu sets its PCI drvdata to &adev->ddev (a struct drm_device embedded
 * in struct amdgpu_device) and its device-private pagemap is
 * &adev->kfd.pgmap in the same structure. GPUP2P_AMDGPU_DDEV_TO_PGMAP is
 * offsetof(struct amdgpu_device, kfd.pgmap) -
 * offsetof(struct amdgpu_device, ddev) in Debian's build of the series
 * named in the block. scripts/check-gpu-layout verifies it against amdgpu's
 * own sources of that series (gpu_p2p/layout/verify.c is compiled with
 * amdgpu's private headers and static-asserts the value), and checks the
 * facts of amdgpu's code behind the rule (drvdata, pagemap, BAR 0).
 *
 * The value is only ever used to compute an address that is compared with
 * the address of a pagemap the kernel returned (get_dev_pagemap()): never
 * dereferenced. On a kernel whose configuration changes the size of a type
 * inside struct amdgpu_device (lock debugging, for instance), the value
 * matches no pagemap and the rule finds nothing: amdgpu's pages migrate
 * as without hmm-p2p, and the module says so.
 *
 * Nothing here is a copy of an amdgpu definition.
 */
#ifndef GPU_P2P_LAYOUT_H
#define GPU_P2P_LAYOUT_H

#include <linux/version.h>

#define GPUP2P_LAYOUT_VERIFIED "7.2, 7.3"

#if LINUX_VERSION_MAJOR == 7 && LINUX_VERSION_PATCHLEVEL == 3
/* Verified against Debian linux-source-7.3 (7.3.4). */
#define GPUP2P_LAYOUT_SERIES "7.3"
#define GPUP2P_AMDGPU_DDEV_TO_PGMAP 390424
#elif LINUX_VERSION_MAJOR == 7 && LINUX_VERSION_PATCHLEVEL == 2
/* Verified against Debian linux-source-7.2 (7.2.12). */
#define GPUP2P_LAYOUT_SERIES "7.2"
#define GPUP2P_AMDGPU_DDEV_TO_PGMAP 386488
#endif

#endif /* GPU_P2P_LAYOUT_H */
