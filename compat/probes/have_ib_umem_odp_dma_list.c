// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct ib_umem_odp has pfn_list and dma_list and maps pages itself
 * (Linux 5.x to 6.16; replaced by the hmm_dma_map layout, see
 * have_ib_umem_odp_map.c and docs/upstream-citations.md).
 */
#include <rdma/ib_umem_odp.h>

static __maybe_unused dma_addr_t *probe(struct ib_umem_odp *odp)
{
	return odp->dma_list;
}
