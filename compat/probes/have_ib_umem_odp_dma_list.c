// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct ib_umem_odp has pfn_list and dma_list and ib_umem_odp maps the pages
 * itself: the layout before
 * Upstream: commit 1efe8c0670d6 ("RDMA/core: Convert UMEM ODP DMA mapping to caching IOVA
 * and page linkage") in v6.16.
 */
#include <rdma/ib_umem_odp.h>

static __maybe_unused dma_addr_t *probe(struct ib_umem_odp *odp)
{
	return odp->dma_list;
}
