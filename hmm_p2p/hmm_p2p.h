/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hmm_p2p: peer-to-peer DMA for HMM device-private pages.
 *
 * A provider (a GPU driver, or its companion module) registers the owner of
 * its device-private memory, the PCI device whose BAR can expose that memory,
 * and a callback that turns a device-private page into the pfn of a PCI
 * P2PDMA page aliasing the same bytes ("a DMA-able alias").
 *
 * A consumer (an RDMA ODP driver, or any mirror of a process address space)
 * calls hmm_p2p_range_fault() instead of hmm_range_fault(). Device-private
 * pages of a registered owner then come back as the alias pfn when the
 * consumer's device can reach the provider's BAR, and are migrated to system
 * RAM exactly as hmm_range_fault() would do otherwise, page by page.
 *
 * Lifetime: an alias pfn is valid under the same rule as any other hmm pfn:
 * until the range's mmu interval notifier reports an invalidation. Callers
 * never take a reference on an alias page.
 */
#ifndef HMM_P2P_H
#define HMM_P2P_H

#include <linux/types.h>

struct device;
struct dev_pagemap;
struct hmm_range;
struct page;
struct pci_dev;
struct hmm_p2p_provider;

/**
 * typedef hmm_p2p_alias_fn - translate a device-private page to its alias
 * @priv: the provider's private pointer from &struct hmm_p2p_provider_desc
 * @page: a device-private page whose pgmap owner is the provider's owner
 * @alias_pfn: on success, the pfn of a MEMORY_DEVICE_PCI_P2PDMA page
 *
 * Called with the caller's mmap lock held in read mode: must not sleep for
 * long and must not take the mmap lock. Return 0 or a negative errno; any
 * error makes that one page fall back to migration.
 */
typedef int (*hmm_p2p_alias_fn)(void *priv, struct page *page,
				unsigned long *alias_pfn);

/**
 * struct hmm_p2p_provider_desc - what a provider registers
 * @name: short name shown in sysfs and logs (copied)
 * @owner: the dev_pagemap.owner of the provider's device-private memory
 * @pdev: the PCI device whose BAR backs the aliases (reachability is
 *	decided between this device and each client device)
 * @alias: the translation callback
 * @priv: passed back to @alias
 */
struct hmm_p2p_provider_desc {
	const char *name;
	void *owner;
	struct pci_dev *pdev;
	hmm_p2p_alias_fn alias;
	void *priv;
};

/*
 * Registration, unregistration and the pagemap calls sleep and wait for
 * every hmm_p2p_range_fault() in flight: never call them from an alias
 * callback or from the provider's migrate_to_ram(), which such a fault may
 * be running.
 */
struct hmm_p2p_provider *
hmm_p2p_register_provider(const struct hmm_p2p_provider_desc *desc);
void hmm_p2p_unregister_provider(struct hmm_p2p_provider *prov);

/*
 * Declare (and withdraw) a device-private pagemap of a provider. The core
 * recognises candidate pfns by these ranges, so that ranges without
 * device-private pages cost no struct page access at all.
 */
int hmm_p2p_provider_add_pagemap(struct hmm_p2p_provider *prov,
				 struct dev_pagemap *pgmap);
void hmm_p2p_provider_remove_pagemap(struct hmm_p2p_provider *prov,
				     struct dev_pagemap *pgmap);

/**
 * hmm_p2p_range_fault - hmm_range_fault() that answers with P2P aliases
 * @range: as for hmm_range_fault(); the caller holds the mmap lock in read
 *	mode and has sampled range->notifier_seq
 * @client: the device that will access the pages (its DMA device), or NULL
 *	for a client that accesses memory with the CPU (rdma_rxe, siw)
 *
 * Returns what hmm_range_fault() returns: 0, -EBUSY (retry after a new
 * mmu_interval_read_begin()), -EFAULT, -EPERM or -ENOMEM. On success every
 * slot holds exactly what hmm_range_fault() would have put there, except
 * that device-private pages of registered providers whose alias @client can
 * reach hold the alias pfn (HMM_PFN_VALID, HMM_PFN_WRITE as the PTE allows,
 * order 0). range->dev_private_owner is the caller's own owner (or NULL) and
 * is restored before returning.
 */
int hmm_p2p_range_fault(struct hmm_range *range, struct device *client);

/*
 * The common provider case: device memory that is a linear window of a PCI
 * BAR, and one device-private pagemap covering the same bytes page for page.
 * The helper registers the BAR window as P2PDMA memory, reserves all of it
 * for the provider (so the p2pmem sysfs allocator cannot hand it out), and
 * translates device-private page -> window offset -> P2PDMA page.
 */
struct hmm_p2p_bar_window {
	struct pci_dev *pdev;
	int bar;
	u64 bar_offset;		/* window start inside the BAR */
	size_t size;		/* window size in bytes, page aligned */
	void *kaddr;		/* kernel (UC) mapping of the window */
	unsigned long alias_base_pfn;
	unsigned long private_base_pfn; /* 0 until a pagemap is attached */
};

int hmm_p2p_bar_window_init(struct hmm_p2p_bar_window *win,
			    struct pci_dev *pdev, int bar, u64 bar_offset,
			    size_t size);
void hmm_p2p_bar_window_fini(struct hmm_p2p_bar_window *win);
/*
 * Attach the device-private pagemap whose first pages map 1:1 onto the
 * window (it may be larger; pages beyond the window have no alias).
 */
int hmm_p2p_bar_window_attach(struct hmm_p2p_bar_window *win,
			      struct dev_pagemap *pgmap);
/* Device-private page -> byte offset in the window; -ERANGE if outside. */
int hmm_p2p_bar_window_offset(const struct hmm_p2p_bar_window *win,
			      struct page *page, u64 *offset);
/* An &hmm_p2p_alias_fn for a provider whose priv is the window. */
int hmm_p2p_bar_window_alias(void *win, struct page *page,
			     unsigned long *alias_pfn);

/* Counters, kept per provider and in total (also in sysfs). */
enum hmm_p2p_counter {
	HMM_P2P_WALKS,		/* hmm_p2p_range_fault() calls */
	HMM_P2P_PAGES,		/* pages in those ranges */
	HMM_P2P_ALIASES,	/* device-private pages answered with an alias */
	HMM_P2P_FALLBACK_UNREACHABLE, /* client cannot reach the BAR */
	HMM_P2P_FALLBACK_REFUSED, /* provider callback returned an error */
	HMM_P2P_FAULTED,	/* pages faulted by a fallback walk */
	HMM_P2P_NR_COUNTERS,
};

u64 hmm_p2p_counter_read(struct hmm_p2p_provider *prov,
			 enum hmm_p2p_counter c);

#endif /* HMM_P2P_H */
