// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm pfns carry sticky in/out flags (HMM_PFN_DMA_MAPPED and friends) that
 * every writer of a slot must preserve. Added with the hmm_dma_map API,
 * "mm/hmm: provide generic DMA managing logic", Linux 6.17;
 * see docs/upstream-citations.md for the commit.
 */
#include <linux/hmm.h>

static __maybe_unused unsigned long probe(void)
{
	return HMM_PFN_DMA_MAPPED;
}
