/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-version shims for hmm-p2p. Every shim names the probe that selects
 * it (compat/probes/<name>.c, which cites the upstream change) so that the
 * build log shows which branch a kernel takes.
 */
#ifndef HMM_P2P_COMPAT_H
#define HMM_P2P_COMPAT_H

#include <linux/bitmap.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>

#include "hmm_p2p_probes.h"

/* Probe have_page_pgmap: 82ba975e4c43 (v6.15) moved pgmap out of struct page. */
static inline struct dev_pagemap *hmm_p2p_page_pgmap(struct page *page)
{
#ifdef HMM_P2P_HAVE_PAGE_PGMAP
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/*
 * Probe have_hmm_pfn_dma_mapped: since 285e871884ff (v6.16) some hmm pfn flag bits are
 * carried from input to output and must survive every write of a slot.
 * They are derived, not listed: every HMM_PFN_FLAGS bit that is neither an
 * output flag (VALID, WRITE, ERROR) nor part of the order field. The order
 * field is 5 bits wide in every version (hmm_pfn_to_map_order() masks 0x1F).
 */
#define HMM_P2P_PFN_ORDER_MASK (0x1FUL << HMM_PFN_ORDER_SHIFT)
#define HMM_P2P_PFN_STICKY                                                \
	((unsigned long)HMM_PFN_FLAGS &                                    \
	 ~((unsigned long)HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR |  \
	   HMM_P2P_PFN_ORDER_MASK))
/*
 * The sticky flags this code knows, per probe. A kernel that adds an hmm pfn
 * flag changes HMM_P2P_PFN_STICKY and fails the build here, instead of
 * having an unknown bit copied into alias slots.
 */
#ifdef HMM_P2P_HAVE_HMM_PFN_DMA_MAPPED
#define HMM_P2P_PFN_KNOWN_STICKY \
	((unsigned long)HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS)
#else
#define HMM_P2P_PFN_KNOWN_STICKY 0UL
#endif
static_assert(HMM_P2P_PFN_STICKY == HMM_P2P_PFN_KNOWN_STICKY,
	      "hmm pfn flags changed: review HMM_P2P_PFN_STICKY and alias slots");

/*
 * The flag a consumer sets on a slot it has mapped for its device, under
 * its own lock after its sequence check, and that every invalidation
 * clears (hmm_dma_map_pfn()/hmm_dma_unmap_pfn(), 285e871884ff, v6.16).
 * Before it, ib_umem_odp kept its mappings in a list of its own and the
 * pfn array was not a live mirror: nothing to keep.
 */
#ifdef HMM_P2P_HAVE_HMM_PFN_DMA_MAPPED
#define HMM_P2P_PFN_MAPPED ((unsigned long)HMM_PFN_DMA_MAPPED)
#else
#define HMM_P2P_PFN_MAPPED 0UL
#endif

#define HMM_P2P_PFN_REQ_MASK \
	((unsigned long)HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE)

static inline unsigned long hmm_p2p_pfn_of(unsigned long hmm_pfn)
{
	return hmm_pfn & ~(unsigned long)HMM_PFN_FLAGS;
}

/*
 * Probe get_dev_pagemap_has_one_arg: a live reference on the pagemap of
 * @pfn, or NULL (no ZONE_DEVICE memory there, or it is going away).
 */
static inline struct dev_pagemap *hmm_p2p_get_dev_pagemap(unsigned long pfn)
{
#ifdef HMM_P2P_GET_DEV_PAGEMAP_HAS_ONE_ARG
	return get_dev_pagemap(pfn);
#else
	return get_dev_pagemap(pfn, NULL);
#endif
}

/*
 * Which subsections of memory section @nr hold ordinary online memory, as a
 * bitmap of one word (bit k: subsection k); 0 when the section holds none,
 * or may hold a ZONE_DEVICE pfn among its RAM. The fast path of
 * pfn_to_online_page() (mm/memory_hotplug.c) for a whole section at once,
 * from the mmzone.h helpers it uses:
 *  - memory hotplug taints a section that device memory shares with RAM
 *    (move_pfn_range_to_zone()), and device memory is never "online"; the
 *    taint exists since 1f90a3477df3 ("mm: teach pfn_to_online_page()
 *    about ZONE_DEVICE section collisions", v5.12);
 *  - memory is added and removed by subsection since f1eca35a0dc7 ("mm/
 *    sparsemem: introduce struct mem_section_usage", v5.3):
 *    the section's usage map says which are present (what
 *    pfn_section_valid() reads, one bit per call). ZONE_DEVICE depends on
 *    SPARSEMEM_VMEMMAP, where the map exists. section_deactivate() frees
 *    the usage after an RCU grace period since 5ec8e8ea8b77 ("mm/sparsemem:
 *    fix race in accessing memory_section->usage", v6.8).
 * Where the architecture checks pfn_valid() page by page
 * (CONFIG_HAVE_ARCH_PFN_VALID), or a section has more subsections than a
 * word has bits, this says 0 and the caller asks pfn_to_online_page().
 */
static inline unsigned long hmm_p2p_plain_subsections(unsigned long nr)
{
#if defined(CONFIG_SPARSEMEM_VMEMMAP) && !defined(CONFIG_HAVE_ARCH_PFN_VALID) && \
	SUBSECTIONS_PER_SECTION <= BITS_PER_LONG
	struct mem_section_usage *usage;
	struct mem_section *ms;
	unsigned long map = 0;

	if (nr >= NR_MEM_SECTIONS)
		return 0;
	ms = __nr_to_section(nr);
	if (!online_section(ms) || online_device_section(ms))
		return 0;
	rcu_read_lock();
	usage = READ_ONCE(ms->usage);
	if (usage)
		map = READ_ONCE(usage->subsection_map[0]) &
		      BITMAP_LAST_WORD_MASK(SUBSECTIONS_PER_SECTION);
	rcu_read_unlock();
	return map;
#else
	return 0;
#endif
}

/* Probe zone_device_page_init_has_pgmap_order: d245f9b4ab80, 12b2285bf3d1 (v6.19). */
static inline void hmm_p2p_zone_device_page_init(struct page *page,
						 struct dev_pagemap *pgmap)
{
#ifdef HMM_P2P_ZONE_DEVICE_PAGE_INIT_HAS_PGMAP_ORDER
	zone_device_page_init(page, pgmap, 0);
#else
	zone_device_page_init(page);
#endif
}

#endif /* HMM_P2P_COMPAT_H */
