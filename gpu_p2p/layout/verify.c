// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build-time verification of gpu_p2p/gpu_layout.h.
 *
 * Never part of a module: scripts/check-gpu-layout compiles this file (to
 * assembly only) with the kernel build system of one kernel series and with
 * that series' amdgpu sources on the include path. Nothing of amdgpu is
 * copied into hmm-p2p: the values are compared with offsetof() here.
 *
 *   default                   static-assert every value
 *   -DGPUP2P_LAYOUT_PRINT     no asserts; emit "->gpup2p <name> <project>
 *                             <driver>" lines into the assembly instead
 *   -DGPUP2P_LAYOUT_SELFTEST  make one project value wrong on purpose (the
 *                             check's self-test: the build must then fail)
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
