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
 * never take a reference on an alias page. Consumers keep aliases in device
 * translation tables (an RDMA NIC's MTT) until such an invalidation, and
 * unregistering a provider invalidates nothing. Hence the provider's side of
 * the contract:
 *
 *   A BAR window that aliases device-private pages may be freed, unmapped or
 *   reused only after every mirror of every device-private page it can alias
 *   was invalidated while no new alias can be handed out (the provider is
 *   unregistered): the page was migrated, freed, or unmapped from every
 *   process through the kernel's own notifiers. Until then the window stays
 *   as it is.
 *
 * The BAR-window helper keeps it for the providers that use it:
 * hmm_p2p_bar_window_fini() migrates every page of the attached pagemap that
 * the window covers to RAM (copying through the window),
 * hmm_p2p_bar_window_fini_in_place() unmaps each from every process and maps
 * it back (the pages stay in device memory, for their driver to move), before
 * either lets the window go.
 */
#ifndef HMM_P2P_H
#define HMM_P2P_H

#include <linux/errno.h>
#include <linux/list.h>
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
 * @owner: the dev_pagemap.owner of the provider's device-private memory;
 *	devices that share one (an XGMI hive, xe peers) register a provider
 *	each, and each declares only its own device's pagemaps
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
 * Registration and hmm_p2p_provider_add_pagemap() never wait for anything
 * but the registry's mutex. Unregistration and
 * hmm_p2p_provider_remove_pagemap() wait until no translation in flight can
 * use what they withdraw: translations never fault and never take the mmap
 * lock, so this wait is short and may happen under the provider's own
 * locks. A fault that blocks (a stalled file, an unanswered userfaultfd)
 * never delays them. Never call them from an alias callback. Once they
 * return, the alias callback is not called again for what they withdrew,
 * but aliases handed out before stay valid until invalidated (see above).
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
 * that device-private pages of declared pagemaps of registered providers,
 * whose alias @client can map, hold the alias pfn (HMM_PFN_VALID,
 * HMM_PFN_WRITE as the PTE allows, order 0): a P2PDMA page in a BAR of the
 * provider's PCI device. Every other device-private page is treated as
 * hmm_range_fault() treats it. Without a fault request, a ZONE_DEVICE page
 * whose pagemap is being removed is answered "not valid".
 * range->dev_private_owner is the caller's own owner (or NULL) and is left
 * unchanged. Whether one page is aliased never
 * depends on its neighbours: a page that needs a fault never makes an
 * aliasable page next to it migrate.
 *
 * The array may be the caller's live mirror (ib_umem_odp's pfn list): only
 * final answers are stored, each one a value hmm_range_fault() itself
 * could store or an alias, in chunks of a few dozen slots, each right
 * after a sequence check, never long after it, whatever fails later;
 * an answer that would take HMM_PFN_VALID or write access from a slot only
 * where the slot still holds what it held when the pass's first walk
 * began, so a concurrent fault's fresher answer is not undone (no more
 * than the stock walk's own store in flight would).
 * One exception to "the stock answer": without a fault request, a slot
 * the caller has mapped for its device (HMM_PFN_VALID and
 * HMM_PFN_DMA_MAPPED, which the caller sets under its lock after its
 * sequence check and clears on every invalidation, as ib_umem_odp does)
 * is never turned "not valid": an alias handed out stays
 * valid until the page leaves device memory, and the caller's invalidation,
 * which tears down valid slots only, must still find it. This holds with
 * P2P disabled and after every provider left, once an alias was handed out.
 */
int hmm_p2p_range_fault(struct hmm_range *range, struct device *client);

/**
 * hmm_p2p_range_fault_unlocked_timeout - the same for callers of
 *	hmm_range_fault_unlocked_timeout()
 * @range: as for hmm_range_fault_unlocked_timeout(); the caller does not
 *	hold the mmap lock
 * @timeout: jiffies for internal -EBUSY retries, 0 to retry indefinitely
 * @client: as for hmm_p2p_range_fault()
 *
 * Keeps every semantic of hmm_range_fault_unlocked_timeout() (Linux 7.3):
 * takes the mmap lock itself (killable), lets handle_mm_fault() drop it
 * while faulting (userfaultfd-backed memory works), returns -EINTR for a
 * fatal signal, refreshes range->notifier_seq and retries -EBUSY until
 * @timeout. On kernels without that function the faults hold the lock, as
 * hmm_range_fault() does, and the retry loop is the same.
 */
int hmm_p2p_range_fault_unlocked_timeout(struct hmm_range *range,
					 unsigned long timeout,
					 struct device *client);

/*
 * The common provider case: device memory that is a linear window of a PCI
 * BAR, and one device-private pagemap covering the same bytes page for page.
 * The window starts and ends on a memory subsection (2 MiB on x86), the
 * granule in which the kernel adds device memory.
 * The helper registers the BAR window as P2PDMA memory, reserves all of it
 * for the provider (so the p2pmem sysfs allocator cannot hand it out), and
 * translates device-private page -> window offset -> P2PDMA page.
 * From hmm_p2p_bar_window_init() to hmm_p2p_bar_window_fini() the window is
 * on hmm_p2p's list of windows (sysfs reads it): it must not be copied,
 * moved, initialised again or freed before fini.
 */
struct hmm_p2p_bar_window {
	struct pci_dev *pdev;
	int bar;
	u64 bar_offset;		/* window start inside the BAR */
	size_t size;		/* window size in bytes, page aligned */
	void *kaddr;		/* kernel (UC) mapping of the window */
	/* The driver's own P2PDMA pages (their pagemap, referenced), or NULL */
	struct dev_pagemap *borrowed;
	unsigned long alias_base_pfn;
	unsigned long private_base_pfn; /* 0 until a pagemap is attached */
	unsigned long private_npages;	/* pages of the attached pagemap */
	unsigned long *aliased;		/* blocks an alias was handed out in */
	struct list_head node;		/* hmm_p2p's windows, for sysfs */
};

/*
 * Register (or, when an earlier user of the same window left it registered,
 * reuse) the window as P2PDMA memory and reserve all of it. Where the
 * device's driver registered P2PDMA memory around the window itself, use
 * its pages instead (nothing reserved: its pool is the driver's), holding
 * a reference on their pagemap until fini: whoever unmaps them waits for
 * the window, so the provider must give it back once
 * hmm_p2p_bar_window_doomed() says so.
 */
int hmm_p2p_bar_window_init(struct hmm_p2p_bar_window *win,
			    struct pci_dev *pdev, int bar, u64 bar_offset,
			    size_t size);
/*
 * Keep the lifetime contract, then give the window back: every in-use page
 * of the attached pagemap that the window covers is migrated to RAM,
 * copying through the window. Call it after unregistering the provider,
 * once the provider no longer migrates pages into that memory, and while
 * the attached pagemap is still mapped (before memunmap_pages(): the
 * eviction walks its pages). Sleeps; may wait for pages that are busy
 * (being migrated or faulted) to settle. While the device's driver stays
 * bound, the window stays allocated from its P2PDMA pool until the driver
 * unbinds (so that the pool cannot hand it out; hmm_p2p stays loaded
 * meanwhile) and the next init of the same window takes it again. Call it
 * from the driver's remove(), a bus notifier or with the device lock held,
 * never from a devres action of the device.
 */
void hmm_p2p_bar_window_fini(struct hmm_p2p_bar_window *win);
/*
 * The same, but the pages stay in device memory: each page in a 2 MiB block
 * an alias was handed out in is unmapped from every process (every mirror
 * is invalidated) and mapped back; no other page is touched. For a provider
 * beside a driver that reaches its device memory by its own means (its
 * migrate_to_ram() serves the next CPU fault) and whose aliases come from
 * hmm_p2p_bar_window_alias() or hmm_p2p_bar_window_offset() (which record
 * the blocks). Call it from the
 * driver's remove(), a bus notifier or with the device lock held, never
 * from a devres action of the device.
 */
void hmm_p2p_bar_window_fini_in_place(struct hmm_p2p_bar_window *win);
/*
 * Is the driver's P2PDMA memory a borrowed window uses being unmapped?
 * Its unmapping then waits for the window: give it back (fini) soon. Not
 * concurrently with fini of the same window (the provider's own lock).
 */
bool hmm_p2p_bar_window_doomed(const struct hmm_p2p_bar_window *win);
/*
 * Attach the device-private pagemap whose first pages map 1:1 onto the
 * window (it may be larger; pages beyond the window have no alias). Once
 * per init; -ENOMEM if the record of aliased blocks cannot be allocated.
 */
int hmm_p2p_bar_window_attach(struct hmm_p2p_bar_window *win,
			      struct dev_pagemap *pgmap);
/*
 * Device-private page -> byte offset in the window; -ERANGE if outside.
 * Records the page's block as aliased (for fini_in_place): only between
 * attach and fini, never concurrently with fini.
 */
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
	HMM_P2P_FALLBACK_UNDECLARED, /* pagemap not declared (or withdrawn) */
	HMM_P2P_NR_COUNTERS,
};

u64 hmm_p2p_counter_read(struct hmm_p2p_provider *prov,
			 enum hmm_p2p_counter c);

/*
 * Has any alias been handed out since the core was loaded? Once true it
 * stays true (set before the first alias is stored into any array). One
 * load: a consumer gates work that only alias slots need with it, read
 * under the lock that covers its device mappings (ib_umem_odp's
 * umem_mutex), which orders it after the alias slots it maps.
 */
bool hmm_p2p_aliases_handed_out(void);

/*
 * What can go P2P now, as one line for a consumer's state and load line:
 * how many providers are registered ("no provider registered" when none),
 * and the device-private memory (iomem regions of type
 * IORES_DESC_DEVICE_PRIVATE_MEMORY) no provider declared, whose pages
 * migrate as without hmm-p2p. Returns true when some provider is
 * registered. May sleep.
 */
bool hmm_p2p_describe_reach(char *buf, size_t size);
/* Room for a module's state line with hmm_p2p_describe_reach()'s text. */
#define HMM_P2P_STATE_LEN 384

struct kernel_param;

/*
 * The .set of a read-only module parameter (mode 0444, such as each
 * module's "state"): without one, "modprobe <module> state=x" would call a
 * NULL .set (kernel/params.c parse_one() calls it unchecked). With this the
 * load fails with -EINVAL and the kernel's one line "`x' invalid for
 * parameter".
 */
static inline int hmm_p2p_param_set_readonly(const char *val,
					     const struct kernel_param *kp)
{
	return -EINVAL;
}

#endif /* HMM_P2P_H */
