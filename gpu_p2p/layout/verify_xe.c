// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build-time verification of gpu_p2p/gpu_layout.h's xe values.
 *
 * Never part of a module: scripts/check-gpu-layout compiles this file (to
 * assembly only) with the kernel build system of one kernel series and with
 * that series' xe sources on the include path. Nothing of xe is copied into
 * hmm-p2p: the values are compared with offsetof() and sizeof() here. The
 * modes are compat/layout_check.h's, as for verify.c.
 */
#include "xe_device_types.h"
#include "xe_svm.h"
#include "xe_vram_types.h"

#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "gpu_layout.h"
#include "verify.h"

#ifndef GPUP2P_XE_PGMAP_TO_DPAGEMAP
#error "gpu_layout.h has no xe block for this kernel series"
#endif

static void __used gpup2p_layout_verify_xe(void)
{
	struct xe_pagemap *xp = NULL;
	struct xe_vram_region *vr = NULL;

	GPUP2P_CHECK(XE_PGMAP_TO_DPAGEMAP,
		     GPUP2P_XE_PGMAP_TO_DPAGEMAP + GPUP2P_SKEW,
		     (long)offsetof(struct xe_pagemap, dpagemap) -
			     (long)offsetof(struct xe_pagemap, pagemap));
	GPUP2P_CHECK(XE_PGMAP_TO_HPA_BASE, GPUP2P_XE_PGMAP_TO_HPA_BASE,
		     (long)offsetof(struct xe_pagemap, hpa_base) -
			     (long)offsetof(struct xe_pagemap, pagemap));
	GPUP2P_CHECK(XE_VR_XE, GPUP2P_XE_VR_XE,
		     (long)offsetof(struct xe_vram_region, xe));
	GPUP2P_CHECK(XE_XE_DRM, GPUP2P_XE_XE_DRM,
		     (long)offsetof(struct xe_device, drm));
	GPUP2P_CHECK(XE_PGMAP_TO_VR, GPUP2P_XE_PGMAP_TO_VR,
		     (long)offsetof(struct xe_pagemap, vr) -
			     (long)offsetof(struct xe_pagemap, pagemap));
	GPUP2P_CHECK(XE_VR_IO_START, GPUP2P_XE_VR_IO_START,
		     (long)offsetof(struct xe_vram_region, io_start));
	GPUP2P_CHECK(XE_VR_IO_SIZE, GPUP2P_XE_VR_IO_SIZE,
		     (long)offsetof(struct xe_vram_region, io_size));
	GPUP2P_CHECK(XE_SIZEOF_DEV_PAGEMAP, GPUP2P_XE_SIZEOF_DEV_PAGEMAP,
		     (long)sizeof(struct dev_pagemap));
	GPUP2P_CHECK(XE_SIZEOF_DRM_PAGEMAP, GPUP2P_XE_SIZEOF_DRM_PAGEMAP,
		     (long)sizeof(struct drm_pagemap));
	GPUP2P_CHECK(XE_SIZEOF_WORK_STRUCT, GPUP2P_XE_SIZEOF_WORK_STRUCT,
		     (long)sizeof(struct work_struct));
	GPUP2P_CHECK(XE_SIZEOF_DRM_PAGEMAP_PEER,
		     GPUP2P_XE_SIZEOF_DRM_PAGEMAP_PEER,
		     (long)sizeof(struct drm_pagemap_peer));
	GPUP2P_CHECK_TYPE(xp->pagemap, struct dev_pagemap);
	GPUP2P_CHECK_TYPE(xp->dpagemap, struct drm_pagemap);
	GPUP2P_CHECK_TYPE(xp->vr, struct xe_vram_region *);
	GPUP2P_CHECK_TYPE(xp->hpa_base, resource_size_t);
	GPUP2P_CHECK_TYPE(vr->xe, struct xe_device *);
	GPUP2P_CHECK_TYPE(vr->io_start, resource_size_t);
	GPUP2P_CHECK_TYPE(vr->io_size, resource_size_t);
}
