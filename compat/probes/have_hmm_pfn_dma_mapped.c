// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm pfns carry sticky in/out flags (HMM_PFN_DMA_MAPPED, and HMM_PFN_P2PDMA,
 * HMM_PFN_P2PDMA_BUS) that every writer of a slot must preserve.
 * Upstream: commit 285e871884ff ("mm/hmm: let users to tag specific PFN with DMA mapped
 * bit") and commit 8cad47130566 ("mm/hmm: provide generic DMA managing logic"),
 * both in v6.16.
 */
#include <linux/hmm.h>

static __maybe_unused unsigned long probe(void)
{
	return HMM_PFN_DMA_MAPPED;
}
