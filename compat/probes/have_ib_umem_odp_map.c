// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct ib_umem_odp keeps its pfns in a struct hmm_dma_map (map.pfn_list)
 * and the driver DMA-maps them ("RDMA/umem: Store ODP access mask
 * information in PFN", Linux 6.17; see docs/upstream-citations.md).
 */
#include <rdma/ib_umem_odp.h>

static __maybe_unused unsigned long *probe(struct ib_umem_odp *odp)
{
	return odp->map.pfn_list;
}
