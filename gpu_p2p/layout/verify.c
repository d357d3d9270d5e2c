// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build-time verification of gpu_p2p/gpu_layout.h.
 *
 * Never part of a module: scripts/check-gpu-layout compiles this file (to
 * assembly only) with the kernel build system of one kernel series and with
 * that series' amdgpu sources on the include path. Nothing of amdgpu is
 * copied into hmm-p2p: the values are compared with offsetof() here.
 *
 * Its modes (assert, -DLAYOUT_CHECK_PRINT, -DLAYOUT_CHECK_SELFTEST) are
 * compat/layout_check.h's; the report lines are tagged "gpup2p".
 */
#include "amdgpu.h"
#include "amdgpu_amdkfd.h"

#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "gpu_layout.h"

#ifndef GPUP2P_LAYOUT_SERIES
#error "gpu_layout.h has no block for this kernel series"
#endif

#include "verify.h"

static void __used gpup2p_layout_verify(void)
{
	struct amdgpu_device *adev = NULL;

	GPUP2P_CHECK(AMDGPU_DDEV_TO_PGMAP,
		     GPUP2P_AMDGPU_DDEV_TO_PGMAP + GPUP2P_SKEW,
		     (long)offsetof(struct amdgpu_device, kfd.pgmap) -
			     (long)offsetof(struct amdgpu_device, ddev));
	GPUP2P_CHECK_TYPE(adev->ddev, struct drm_device);
	GPUP2P_CHECK_TYPE(adev->kfd.pgmap, struct dev_pagemap);
}
