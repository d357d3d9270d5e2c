/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few private nouveau layouts nouveau_p2p relies on, as numbers.
 *
 * nouveau exports nothing and its headers are not in any linux-headers
 * package, so the provider cannot include them. Nothing here is a copy of a
 * nouveau definition: each value is an offset (or a size) that
 * scripts/check-nouveau-layout verifies against nouveau's own sources of
 * the kernel named in the block (Debian linux-source-7.2 / 7.3, configured
 * with Debian's .config plus CONFIG_DRM_NOUVEAU_SVM=y): the verification
 * translation unit nouveau_p2p/layout/verify.c is compiled with nouveau's
 * private headers on its include path and static-asserts that every value
 * below equals offsetof()/sizeof() there, and that the member has the type
 * the provider assumes. The check fails when a value differs.
 *
 * What each value is used for (docs/nouveau.md has the whole picture):
 *
 *   NVP2P_DRM_DEV         struct nouveau_drm: .dev, the struct drm_device *
 *                         that nouveau uses as dev_pagemap.owner
 *   NVP2P_DRM_DMEM        struct nouveau_drm: .dmem, NULL unless nouveau
 *                         has device memory (DRM_NOUVEAU_SVM, Pascal+)
 *   NVP2P_DMEM_CHUNKS     struct nouveau_dmem: .chunks, the chunk list
 *   NVP2P_DMEM_MUTEX      struct nouveau_dmem: .mutex, which guards it
 *   NVP2P_CHUNK_LIST      struct nouveau_dmem_chunk: .list
 *   NVP2P_CHUNK_BO        struct nouveau_dmem_chunk: .bo (struct nouveau_bo *)
 *   NVP2P_CHUNK_PAGEMAP   struct nouveau_dmem_chunk: .pagemap
 *   NVP2P_BO_TTM          struct nouveau_bo: .bo (struct ttm_buffer_object)
 *
 * The offsets above depend on the sizes of public kernel types that a
 * kernel configuration can change (lock debugging grows struct mutex, for
 * instance). The NVP2P_SIZEOF_* values record the sizes the offsets were
 * verified with; the module compares them with the kernel it is built for
 * and stays idle, saying so, when one differs.
 *
 * A kernel series without a block here has no verified layout: the module
 * builds, loads and stays idle. To add one, add the series to
 * scripts/check-nouveau-layout and scripts/kernels.conf, run the check (it
 * prints the value nouveau's sources give next to each project value), and
 * add the block.
 */
#ifndef NOUVEAU_P2P_LAYOUT_H
#define NOUVEAU_P2P_LAYOUT_H

#include <linux/version.h>

/* The kernel series, from <linux/version.h>. */
#if LINUX_VERSION_MAJOR == 7 && LINUX_VERSION_PATCHLEVEL == 3
/* Verified against Debian linux-source-7.3 (7.3.4). */
#define NVP2P_LAYOUT_SERIES "7.3"
#define NVP2P_DRM_DEV 1256
#define NVP2P_DRM_DMEM 6056
#define NVP2P_DMEM_CHUNKS 32
#define NVP2P_DMEM_MUTEX 48
#define NVP2P_CHUNK_LIST 0
#define NVP2P_CHUNK_BO 16
#define NVP2P_CHUNK_PAGEMAP 40
#define NVP2P_BO_TTM 0
#define NVP2P_SIZEOF_MUTEX 24
#define NVP2P_SIZEOF_DEV_PAGEMAP 152
#define NVP2P_SIZEOF_TTM_DEVICE 2992
#define NVP2P_SIZEOF_TTM_BUFFER_OBJECT 480
#define NVP2P_SIZEOF_DEV_PM_DOMAIN 232
#define NVP2P_SIZEOF_WORK_STRUCT 32
#elif LINUX_VERSION_MAJOR == 7 && LINUX_VERSION_PATCHLEVEL == 2
/* Verified against Debian linux-source-7.2 (7.2.12). */
#define NVP2P_LAYOUT_SERIES "7.2"
#define NVP2P_DRM_DEV 1256
#define NVP2P_DRM_DMEM 6056
#define NVP2P_DMEM_CHUNKS 32
#define NVP2P_DMEM_MUTEX 48
#define NVP2P_CHUNK_LIST 0
#define NVP2P_CHUNK_BO 16
#define NVP2P_CHUNK_PAGEMAP 40
#define NVP2P_BO_TTM 0
#define NVP2P_SIZEOF_MUTEX 24
#define NVP2P_SIZEOF_DEV_PAGEMAP 152
#define NVP2P_SIZEOF_TTM_DEVICE 2992
#define NVP2P_SIZEOF_TTM_BUFFER_OBJECT 480
#define NVP2P_SIZEOF_DEV_PM_DOMAIN 232
#define NVP2P_SIZEOF_WORK_STRUCT 32
#endif

/* The series whose layouts are verified (for the idle message). */
#define NVP2P_LAYOUT_VERIFIED_SERIES "7.2, 7.3"

#endif /* NOUVEAU_P2P_LAYOUT_H */
