/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The private facts of GPU drivers gpu_p2p's rules rely on, as numbers.
 *
 * amdgpu: one value.
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
 * Nothing here is a copy of an amdgpu or xe definition.
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

/*
 * xe (GPU SVM): its device-private pagemap is the first member of its
 * struct xe_pagemap, followed by the struct drm_pagemap (public,
 * include/drm/drm_pagemap.h) that names the drm_device, and further on by
 * the pointer to the VRAM region whose io_start / io_size say where in BAR 2
 * the pagemap's first page is and how much of it the BAR shows
 * (xe_page_to_pcie()). Verified against xe's sources of each series like the
 * amdgpu value. These are read, under a live reference on a pagemap whose
 * callbacks are drm_pagemap's, only after the struct drm_pagemap found there
 * points back at the pagemap, and each read is cross-checked against what
 * it must equal (its callbacks in the driver's module, hpa_base the
 * pagemap's start, the region's xe device the drm_pagemap's drm_device), so
 * that a layout changed by a stable update matches nothing. The sizes of
 * the public types the offsets depend on are recorded too: on a kernel
 * whose configuration changes them (lock debugging), the xe rule stays off
 * and says so.
 */
#if LINUX_VERSION_MAJOR == 7 && (LINUX_VERSION_PATCHLEVEL == 2 || \
				 LINUX_VERSION_PATCHLEVEL == 3)
/* Verified against Debian linux-source-7.2 (7.2.12) and -7.3 (7.3.4). */
#define GPUP2P_XE_PGMAP_TO_DPAGEMAP 152
#define GPUP2P_XE_PGMAP_TO_HPA_BASE 288
#define GPUP2P_XE_PGMAP_TO_VR 296
#define GPUP2P_XE_VR_XE 0
#define GPUP2P_XE_XE_DRM 0
#define GPUP2P_XE_VR_IO_START 16
#define GPUP2P_XE_VR_IO_SIZE 24
#define GPUP2P_XE_SIZEOF_DEV_PAGEMAP 152
#define GPUP2P_XE_SIZEOF_DRM_PAGEMAP 64
#define GPUP2P_XE_SIZEOF_WORK_STRUCT 32
#define GPUP2P_XE_SIZEOF_DRM_PAGEMAP_PEER 40
/*
 * Do the offsets hold for the kernel being built for? Needs
 * <drm/drm_pagemap.h>, <drm/drm_pagemap_util.h> and <linux/memremap.h>.
 */
#define GPUP2P_XE_LAYOUT_HOLDS()                                              \
	(sizeof(struct dev_pagemap) == GPUP2P_XE_SIZEOF_DEV_PAGEMAP &&         \
	 sizeof(struct drm_pagemap) == GPUP2P_XE_SIZEOF_DRM_PAGEMAP &&         \
	 sizeof(struct work_struct) == GPUP2P_XE_SIZEOF_WORK_STRUCT &&         \
	 sizeof(struct drm_pagemap_peer) == GPUP2P_XE_SIZEOF_DRM_PAGEMAP_PEER)
#endif

#endif /* GPU_P2P_LAYOUT_H */
