/* SPDX-License-Identifier: GPL-2.0-only */
/* mlx5_odp_p2p: what main.c and ats.c share. */
#ifndef MLX5_ODP_P2P_INTERNAL_H
#define MLX5_ODP_P2P_INTERNAL_H

#include <linux/types.h>

#include "hmm_p2p_probes.h"

/*
 * The ODP shapes this module serves (see odp_layout()): pfns in
 * umem_odp->map (6.16+). The pfn_list/dma_list shape maps pages inside
 * ib_umem_odp with dma_map_page(), which is not P2P-aware: not served.
 */
#if defined(HMM_P2P_HAVE_IB_UMEM_ODP_MAP) && defined(HMM_P2P_HAVE_HMM_PFN_DMA_MAPPED)
#define ODP_P2P_SUPPORTED 1
#else
#define ODP_P2P_SUPPORTED 0
#endif

struct ib_device;

/* The consumer is enabled and serves @ibdev's driver (devices=). */
bool odp_device_selected(struct ib_device *ibdev);

/* ats.c: ATS for mlx5 ODP memory regions, only with ats=Y. */
bool odp_ats_requested(void);
const char *odp_ats_unsupported_reason(void);
int odp_ats_install(void);
void odp_ats_remove(void);

#endif /* MLX5_ODP_P2P_INTERNAL_H */
