// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build-time verification of nouveau_p2p/nouveau_layout.h.
 *
 * Never part of a module: scripts/check-nouveau-layout compiles this file
 * (to assembly only) with the kernel build system of one kernel series and
 * with that series' nouveau sources on the include path, configured as
 * nouveau is when it has device memory (CONFIG_DRM_NOUVEAU_SVM=y). It
 * includes nouveau_dmem.c itself, because the chunk and dmem structures
 * are private to that file: nothing of nouveau is copied into hmm-p2p.
 *
 * Its modes (assert, -DLAYOUT_CHECK_PRINT, -DLAYOUT_CHECK_SELFTEST) are
 * compat/layout_check.h's; the report lines are tagged "nvp2p".
 */
#include "nouveau_dmem.c"

#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "nouveau_layout.h"

#ifndef NVP2P_LAYOUT_SERIES
#error "nouveau_layout.h has no block for this kernel series"
#endif

#include "layout_check.h"

#define NVP2P_SKEW LAYOUT_CHECK_SKEW
#define NVP2P_CHECK(name, project, nouveau) \
	LAYOUT_CHECK("nvp2p", "nouveau", "NVP2P_", name, project, nouveau)
#define NVP2P_CHECK_TYPE(member, mtype) \
	LAYOUT_CHECK_TYPE("nouveau", member, mtype)

static void __used nvp2p_layout_verify(void)
{
	NVP2P_CHECK(DRM_DEV, NVP2P_DRM_DEV, offsetof(struct nouveau_drm, dev));
	NVP2P_CHECK(DRM_DMEM, NVP2P_DRM_DMEM,
		    offsetof(struct nouveau_drm, dmem));
	NVP2P_CHECK(DMEM_CHUNKS, NVP2P_DMEM_CHUNKS,
		    offsetof(struct nouveau_dmem, chunks));
	NVP2P_CHECK(DMEM_MUTEX, NVP2P_DMEM_MUTEX,
		    offsetof(struct nouveau_dmem, mutex));
	NVP2P_CHECK(CHUNK_LIST, NVP2P_CHUNK_LIST,
		    offsetof(struct nouveau_dmem_chunk, list));
	NVP2P_CHECK(CHUNK_BO, NVP2P_CHUNK_BO,
		    offsetof(struct nouveau_dmem_chunk, bo));
	NVP2P_CHECK(CHUNK_PAGEMAP, NVP2P_CHUNK_PAGEMAP + NVP2P_SKEW,
		    offsetof(struct nouveau_dmem_chunk, pagemap));
	NVP2P_CHECK(BO_TTM, NVP2P_BO_TTM, offsetof(struct nouveau_bo, bo));
	NVP2P_CHECK(SIZEOF_MUTEX, NVP2P_SIZEOF_MUTEX, sizeof(struct mutex));
	NVP2P_CHECK(SIZEOF_DEV_PAGEMAP, NVP2P_SIZEOF_DEV_PAGEMAP,
		    sizeof(struct dev_pagemap));
	NVP2P_CHECK(SIZEOF_TTM_DEVICE, NVP2P_SIZEOF_TTM_DEVICE,
		    sizeof(struct ttm_device));
	NVP2P_CHECK(SIZEOF_TTM_BUFFER_OBJECT, NVP2P_SIZEOF_TTM_BUFFER_OBJECT,
		    sizeof(struct ttm_buffer_object));
	NVP2P_CHECK(SIZEOF_DEV_PM_DOMAIN, NVP2P_SIZEOF_DEV_PM_DOMAIN,
		    sizeof(struct dev_pm_domain));
	NVP2P_CHECK(SIZEOF_WORK_STRUCT, NVP2P_SIZEOF_WORK_STRUCT,
		    sizeof(struct work_struct));

	NVP2P_CHECK_TYPE(((struct nouveau_drm *)NULL)->dev, struct drm_device *);
	NVP2P_CHECK_TYPE(((struct nouveau_drm *)NULL)->dmem, struct nouveau_dmem *);
	NVP2P_CHECK_TYPE(((struct nouveau_dmem *)NULL)->chunks, struct list_head);
	NVP2P_CHECK_TYPE(((struct nouveau_dmem *)NULL)->mutex, struct mutex);
	NVP2P_CHECK_TYPE(((struct nouveau_dmem_chunk *)NULL)->list, struct list_head);
	NVP2P_CHECK_TYPE(((struct nouveau_dmem_chunk *)NULL)->bo, struct nouveau_bo *);
	NVP2P_CHECK_TYPE(((struct nouveau_dmem_chunk *)NULL)->pagemap,
			 struct dev_pagemap);
	NVP2P_CHECK_TYPE(((struct nouveau_bo *)NULL)->bo, struct ttm_buffer_object);
}
