// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct ib_umem_odp keeps its pfns in a struct hmm_dma_map (map.pfn_list) and
 * the driver DMA-maps them.
 * Upstream: commit eedd5b1276e7 ("RDMA/umem: Store ODP access mask information in PFN")
 * and commit 1efe8c0670d6 ("RDMA/core: Convert UMEM ODP DMA mapping to caching
 * IOVA and page linkage"), both in v6.16.
 */
#include <rdma/ib_umem_odp.h>

static __maybe_unused unsigned long *probe(struct ib_umem_odp *odp)
{
	return odp->map.pfn_list;
}
