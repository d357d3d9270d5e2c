// SPDX-License-Identifier: GPL-2.0-only
/*
 * <linux/hmm-dma.h> exists: struct hmm_dma_map and hmm_dma_map_pfn(), which
 * DMA-map an hmm pfn, P2PDMA pages included. Before it, the P2P-aware
 * mapping of a single page is a one-entry dma_map_sg().
 * Upstream: commit 8cad47130566 ("mm/hmm: provide generic DMA managing
 * logic") in v6.16.
 */
#include <linux/hmm-dma.h>

static __maybe_unused int probe(struct device *dev, struct hmm_dma_map *map)
{
	return hmm_dma_map_alloc(dev, map, 1, PAGE_SIZE);
}
