// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BAR-window helper: device memory that is a linear window of a PCI BAR,
 * and a device-private pagemap covering the same bytes page for page.
 *
 *   device-private page -> offset in the window -> P2PDMA page of the BAR
 *
 * Only the window is registered as P2PDMA memory (never the whole BAR), and
 * all of it is allocated to the provider at once, so the p2pmem sysfs
 * allocator of the BAR cannot hand our device memory to anyone else. A
 * window given back while its device stays bound stays allocated until the
 * device's driver unbinds (a "kept" window, taken again by the next init of
 * the same window): the pool would hand out memory the GPU still uses.
 * Where the device's driver registered P2PDMA memory around the window
 * itself, the window uses those pages and reserves nothing: that pool, and
 * what its p2pmem allocator hands out, are the driver's.
 *
 * The window outlives every alias it handed out (hmm_p2p.h). Before it
 * goes, every device-private page it covers is unmapped from every process
 * through migrate_device_range(), which invalidates every mirror of the page
 * (an RDMA NIC's MTT, rxe's pfn list):
 *  - hmm_p2p_bar_window_fini() then migrates the pages to RAM, copying
 *    through the window itself (for a provider whose window is the only way
 *    to its device memory);
 *  - hmm_p2p_bar_window_fini_in_place() puts them back where they were (for
 *    a provider beside a GPU driver that moves its memory with its own
 *    means: its migrate_to_ram() serves the next CPU fault, and nothing
 *    reads device memory through a path its driver does not know, such as
 *    amdgpu's HDP cache).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "hmm_p2p_compat.h"
#include "internal.h"

/*
 * The windows between init and fini, so that a provider's sysfs directory
 * can say which BAR windows alias its pagemaps (the registry knows only the
 * pagemaps; a provider may have a window per pagemap, as nouveau has).
 */
static LIST_HEAD(hmm_p2p_windows);
static DEFINE_MUTEX(hmm_p2p_windows_lock);

/* ---- kept windows ---------------------------------------------------------- */

/*
 * A window given back while its device's driver stays bound: still
 * allocated from the device's P2PDMA pool, so that p2pmem/allocate (which
 * kernel lockdown does not cover) cannot map memory the GPU still uses. A
 * devres action of the device frees it when the driver unbinds, just before
 * the P2PDMA pool itself goes (devres runs in reverse order). The action is
 * this module's code: each kept window holds a reference on the module, so
 * hmm_p2p cannot unload (and give the window to the pool) before the
 * device's driver unbinds. Needs devm_remove_action_nowarn() to be taken
 * back safely while a driver may unbind; without it (6.12), a window goes
 * back to the pool as before.
 *
 * hmm_p2p_windows_lock is held across each list change and the devres call
 * that goes with it, and kept_release() takes it first: an action that runs
 * always finds its entry valid.
 */
struct kept_window {
	struct list_head node;		/* hmm_p2p_kept */
	struct pci_dev *pdev;		/* reference held */
	int bar;
	u64 bar_offset;
	size_t size;
	void *kaddr;
};

static LIST_HEAD(hmm_p2p_kept);		/* under hmm_p2p_windows_lock */

static void kept_free(struct kept_window *k)
{
	pci_free_p2pmem(k->pdev, k->kaddr, k->size);
	pci_dev_put(k->pdev);
	kfree(k);
}

/*
 * devres action: the device's driver unbinds, its P2PDMA pool goes next.
 * The module reference goes last (the usual tail of a module_put() from
 * the module's own code).
 */
static void __maybe_unused kept_release(void *data)
{
	struct kept_window *k = data;

	mutex_lock(&hmm_p2p_windows_lock);
	list_del(&k->node);
	mutex_unlock(&hmm_p2p_windows_lock);
	kept_free(k);
	module_put(THIS_MODULE);
}

#ifdef HMM_P2P_HAVE_DEVM_REMOVE_ACTION_NOWARN
/*
 * Keep @win's allocation until its device's driver unbinds. Called by a
 * provider with the driver bound: from its remove(), a bus notifier or any
 * context holding the device lock, never from a devres action of the device
 * (an action added while devres is being released would never run).
 */
static bool window_keep(const struct hmm_p2p_bar_window *win)
{
	struct kept_window *k;
	int ret = -ENOMEM;

	if (!READ_ONCE(win->pdev->dev.driver))
		return false;	/* nothing would free it at unbind */
	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (k) {
		*k = (struct kept_window){
			.pdev = pci_dev_get(win->pdev),
			.bar = win->bar,
			.bar_offset = win->bar_offset,
			.size = win->size,
			.kaddr = win->kaddr,
		};
		mutex_lock(&hmm_p2p_windows_lock);
		list_add_tail(&k->node, &hmm_p2p_kept);
		ret = devm_add_action(&win->pdev->dev, kept_release, k);
		if (ret)
			list_del(&k->node);
		else
			__module_get(THIS_MODULE);
		mutex_unlock(&hmm_p2p_windows_lock);
		if (!ret)
			return true;
		pci_dev_put(k->pdev);
		kfree(k);
	}
	pr_warn("%s: cannot keep the BAR %d window allocated (%d): it goes back to the device's P2PDMA pool\n",
		pci_name(win->pdev), win->bar, ret);
	return false;
}

/* The kept allocation of exactly this window, taken back, or NULL. */
static void *kept_take(struct pci_dev *pdev, int bar, u64 bar_offset,
		       size_t size)
{
	struct kept_window *k, *found = NULL;
	void *kaddr;

	mutex_lock(&hmm_p2p_windows_lock);
	list_for_each_entry(k, &hmm_p2p_kept, node) {
		if (k->pdev == pdev && k->bar == bar &&
		    k->bar_offset == bar_offset && k->size == size) {
			/* Fails while the device unbinds: its action frees k. */
			if (!devm_remove_action_nowarn(&pdev->dev, kept_release,
						       k)) {
				list_del(&k->node);
				found = k;
			}
			break;
		}
	}
	mutex_unlock(&hmm_p2p_windows_lock);
	if (!found)
		return NULL;
	kaddr = found->kaddr;
	pci_dev_put(found->pdev);
	kfree(found);
	module_put(THIS_MODULE);	/* our caller holds one too */
	return kaddr;
}
#else
static bool window_keep(const struct hmm_p2p_bar_window *win)
{
	return false;
}

static void *kept_take(struct pci_dev *pdev, int bar, u64 bar_offset,
		       size_t size)
{
	return NULL;
}
#endif

/* ---- registration ---------------------------------------------------------- */

/*
 * Device memory is hot-added in subsections (2 MiB on x86): a window that
 * does not start and end on one would reach check_pfn_span()'s "Misaligned"
 * WARN in memory hotplug, so it is refused here.
 */
static bool window_valid(struct pci_dev *pdev, int bar, u64 bar_offset,
			 size_t size)
{
	u64 end;

	return pdev && bar >= 0 && bar < PCI_STD_NUM_BARS &&
	       (pci_resource_flags(pdev, bar) & IORESOURCE_MEM) && size &&
	       IS_ALIGNED(size, SUBSECTION_SIZE) &&
	       IS_ALIGNED(pci_resource_start(pdev, bar) + bar_offset,
			  SUBSECTION_SIZE) &&
	       !check_add_overflow(bar_offset, (u64)size, &end) &&
	       end <= pci_resource_len(pdev, bar);
}

/* A ZONE_DEVICE page at @pfn (P2PDMA or other), or NULL. */
static struct page *zone_device_page_at(unsigned long pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return NULL;
	page = pfn_to_page(pfn);
	return is_zone_device_page(page) ? page : NULL;
}

/* How a window's range is registered already (window_registered()). */
enum window_found {
	WINDOW_FREE,		/* not at all: register it */
	WINDOW_LEFT,		/* exactly, by an earlier user: allocate it */
	WINDOW_INSIDE,		/* inside a larger one: its driver's pages */
};

/*
 * Is [start, start + size) registered already? WINDOW_FREE: no;
 * WINDOW_LEFT: as exactly one P2PDMA pagemap of that range (an earlier
 * user left it: the P2PDMA pagemap lives until the device's driver
 * unbinds); WINDOW_INSIDE: inside one larger P2PDMA pagemap (of the BAR's
 * device: a device's P2PDMA memory is only ever its own BARs), as a GPU
 * driver that publishes its BAR itself registers it; -EBUSY: partly, or as
 * something else, which pci_p2pdma_add_resource() would refuse with a
 * "Conflicting mapping" warning. Checked every memory subsection (the
 * granule of device memory hotplug) and at both ends.
 */
static int window_registered(phys_addr_t start, size_t size)
{
	unsigned long first = PHYS_PFN(start), last = PHYS_PFN(start + size - 1);
	struct page *head = zone_device_page_at(first);
	unsigned long pfn = first;
	struct dev_pagemap *pgmap;

	for (;;) {
		struct page *page = zone_device_page_at(pfn);

		if (!page != !head)
			return -EBUSY;
		if (page && hmm_p2p_page_pgmap(page) != hmm_p2p_page_pgmap(head))
			return -EBUSY;
		if (pfn == last)
			break;
		pfn = min(last, ALIGN(pfn + 1, PAGES_PER_SUBSECTION));
	}
	if (!head)
		return WINDOW_FREE;
	pgmap = hmm_p2p_page_pgmap(head);
	if (!is_pci_p2pdma_page(head) || pgmap->nr_range != 1 ||
	    pgmap->range.start > start ||
	    pgmap->range.end < start + size - 1)
		return -EBUSY;
	if (pgmap->range.start == start && range_len(&pgmap->range) == size)
		return WINDOW_LEFT;
	return WINDOW_INSIDE;
}

/* Does a listed window of @pdev's BAR @bar overlap [offset, offset + size)? */
static bool window_overlaps_listed(struct pci_dev *pdev, int bar, u64 offset,
				   size_t size)
{
	const struct hmm_p2p_bar_window *w;
	bool found = false;

	mutex_lock(&hmm_p2p_windows_lock);
	list_for_each_entry(w, &hmm_p2p_windows, node)
		if (w->pdev == pdev && w->bar == bar &&
		    offset < w->bar_offset + w->size &&
		    w->bar_offset < offset + size)
			found = true;
	mutex_unlock(&hmm_p2p_windows_lock);
	return found;
}

/*
 * The BAR's driver registered P2PDMA memory around the window itself: use
 * its pages (docs/api.md). Nothing is allocated from the driver's pool
 * (first fit cannot take a given range, and the pool is the driver's to
 * hand out); a reference on their pagemap keeps them until fini.
 */
static int window_borrow(struct hmm_p2p_bar_window *win, struct pci_dev *pdev,
			 int bar, u64 bar_offset, size_t size)
{
	phys_addr_t start = pci_resource_start(pdev, bar) + bar_offset;
	struct dev_pagemap *pgmap;
	void *kaddr;

	/*
	 * Pool allocation made windows exclusive; borrowed pages are not
	 * allocated, so another window over them is refused here.
	 */
	if (window_overlaps_listed(pdev, bar, bar_offset, size)) {
		pr_err("%s: BAR %d window at %#llx overlaps a window in use\n",
		       pci_name(pdev), bar, bar_offset);
		return -EBUSY;
	}
	/*
	 * A reference, as pci_alloc_p2pmem() takes one for what it hands
	 * out: whoever unmaps the driver's P2PDMA memory (at unbind, or a
	 * module of the driver's at its exit) waits until the window is
	 * given back (hmm_p2p_bar_window_doomed() tells the provider).
	 */
	pgmap = hmm_p2p_get_dev_pagemap(PHYS_PFN(start));
	/* Looked at without a reference before: still the same kind of memory? */
	if (pgmap && (pgmap->type != MEMORY_DEVICE_PCI_P2PDMA ||
		      pgmap->nr_range != 1 || pgmap->range.start > start ||
		      pgmap->range.end < start + size - 1)) {
		put_dev_pagemap(pgmap);
		pgmap = NULL;
	}
	if (!pgmap) {
		pr_err("%s: BAR %d window at %#llx: the P2PDMA memory around it is going away\n",
		       pci_name(pdev), bar, bar_offset);
		return -EBUSY;
	}
	kaddr = page_address(pfn_to_page(PHYS_PFN(start)));
	/* The pool's own view of the address: its device, its BAR offset. */
	if (pci_p2pmem_virt_to_bus(pdev, kaddr) !=
	    pci_bus_address(pdev, bar) + bar_offset) {
		put_dev_pagemap(pgmap);
		pr_err("%s: BAR %d window at %#llx: the P2PDMA memory around it is not in the device's pool\n",
		       pci_name(pdev), bar, bar_offset);
		return -EBUSY;
	}
	win->kaddr = kaddr;
	win->borrowed = pgmap;
	pr_info("%s: BAR %d window at %#llx: using the P2PDMA pages its driver registered\n",
		pci_name(pdev), bar, bar_offset);
	return 0;
}

int hmm_p2p_bar_window_init(struct hmm_p2p_bar_window *win,
			    struct pci_dev *pdev, int bar, u64 bar_offset,
			    size_t size)
{
	int ret;

	if (!win || !window_valid(pdev, bar, bar_offset, size)) {
		pr_err("bar window: invalid window (bar %d, offset %#llx, size %#zx)\n",
		       bar, bar_offset, size);
		return -EINVAL;
	}
	memset(win, 0, sizeof(*win));

	win->kaddr = kept_take(pdev, bar, bar_offset, size);
	if (win->kaddr)
		goto taken;
	ret = window_registered(pci_resource_start(pdev, bar) + bar_offset,
				size);
	if (ret == WINDOW_INSIDE) {
		ret = window_borrow(win, pdev, bar, bar_offset, size);
		if (ret)
			return ret;
		goto taken;
	}
	if (ret < 0) {
		pr_err("%s: BAR %d window at %#llx overlaps another device memory mapping\n",
		       pci_name(pdev), bar, bar_offset);
		return ret;
	}
	/*
	 * On 7.x (not 6.12), when its last allocation (gen_pool_add_owner())
	 * fails, pci_p2pdma_add_resource() leaves a devres action on the
	 * pagemap it freed: the device's devres release then reads freed
	 * memory. That is the kernel's to fix (docs/kernel-tiers.md); we
	 * only pass the error on.
	 */
	if (ret == WINDOW_FREE)
		ret = pci_p2pdma_add_resource(pdev, bar, size, bar_offset);
	else
		ret = 0;	/* registered by an earlier user: reuse it */
	if (ret) {
		pr_err("%s: cannot register BAR %d window as P2PDMA memory: %d\n",
		       pci_name(pdev), bar, ret);
		return ret;
	}
	win->kaddr = pci_alloc_p2pmem(pdev, size);
	if (!win->kaddr) {
		pr_err("%s: P2PDMA window of BAR %d is already in use\n",
		       pci_name(pdev), bar);
		return -EBUSY;
	}
	/* The pool may hold other windows of this BAR: insist on ours. */
	if (pci_p2pmem_virt_to_bus(pdev, win->kaddr) !=
	    pci_bus_address(pdev, bar) + bar_offset) {
		pci_free_p2pmem(pdev, win->kaddr, size);
		win->kaddr = NULL;
		pr_err("%s: P2PDMA pool returned another window of BAR %d\n",
		       pci_name(pdev), bar);
		return -EBUSY;
	}
taken:
	win->pdev = pdev;
	win->bar = bar;
	win->bar_offset = bar_offset;
	win->size = size;
	win->alias_base_pfn = page_to_pfn(virt_to_page(win->kaddr));
	mutex_lock(&hmm_p2p_windows_lock);
	list_add_tail(&win->node, &hmm_p2p_windows);
	mutex_unlock(&hmm_p2p_windows_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_init);

/* ---- eviction -------------------------------------------------------------- */

/*
 * Pages per migrate_device_range() call, aligned in pfn space so that no
 * device-private folio (at most PMD-sized) is cut in two: such a folio would
 * be skipped by every pass.
 */
#define EVICT_BATCH 512UL
static_assert(PMD_SIZE / PAGE_SIZE <= EVICT_BATCH);
/* How long fini waits for busy pages before it says so (then goes on). */
#define EVICT_WARN_MS 10000U

struct evict_batch {
	unsigned long src[EVICT_BATCH];
	unsigned long dst[EVICT_BATCH];
};

/* The destination of one migrating source: a RAM folio of the same order. */
static struct page *evict_alloc(unsigned long src)
{
#ifdef HMM_P2P_HAVE_MIGRATE_PFN_COMPOUND
	if (src & MIGRATE_PFN_COMPOUND) {
		struct folio *folio = folio_alloc(GFP_HIGHUSER_MOVABLE,
			folio_order(page_folio(migrate_pfn_to_page(src))));

		return folio ? folio_page(folio, 0) : NULL;
	}
#endif
	return alloc_page(GFP_HIGHUSER_MOVABLE);
}

static unsigned long evict_dst(struct page *dpage, unsigned long src)
{
	unsigned long dst = migrate_pfn(page_to_pfn(dpage)) |
			    (src & MIGRATE_PFN_WRITE);

#ifdef HMM_P2P_HAVE_MIGRATE_PFN_COMPOUND
	dst |= src & MIGRATE_PFN_COMPOUND;
#endif
	return dst;
}

/* Copy the window's bytes at @offset into every page of @folio. */
static void evict_copy(const struct hmm_p2p_bar_window *win, u64 offset,
		       struct folio *folio)
{
	unsigned long i;

	for (i = 0; i < folio_nr_pages(folio); i++) {
		void *dst = kmap_local_page(folio_page(folio, i));

		memcpy(dst, win->kaddr + offset + (i << PAGE_SHIFT), PAGE_SIZE);
		kunmap_local(dst);
	}
}

/* A page in use that this pass could not migrate. */
static bool evict_busy(unsigned long pfn, unsigned long src)
{
	return !(src & MIGRATE_PFN_MIGRATE) &&
	       page_ref_count(pfn_to_page(pfn)) > 0;
}

/*
 * Unmap the in-use pages of [first, first + n) (window page indexes) from
 * every process, which invalidates every mirror of them; then, with @copy,
 * migrate them to RAM, else put them back. Returns how many stayed behind
 * (busy, or no RAM for them yet).
 */
static unsigned long evict_batch(const struct hmm_p2p_bar_window *win,
				 unsigned long first, unsigned long n,
				 struct evict_batch *b, bool copy)
{
	unsigned long base = win->private_base_pfn + first, i, busy = 0;

	memset(b->dst, 0, n * sizeof(b->dst[0]));
	migrate_device_range(b->src, base, n);
	for (i = 0; copy && i < n; i++) {
		struct page *spage = migrate_pfn_to_page(b->src[i]), *dpage;

		if (!spage || !(b->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		dpage = evict_alloc(b->src[i]);
		if (!dpage)
			continue;	/* not migrated: busy below */
		lock_page(dpage);
		evict_copy(win, (u64)(first + i) << PAGE_SHIFT,
			   page_folio(dpage));
		b->dst[i] = evict_dst(dpage, b->src[i]);
	}
	/*
	 * In place, no destination: MIGRATE_PFN_MIGRATE still says which
	 * pages were unmapped, and finalize maps them back.
	 */
	if (copy)
		migrate_device_pages(b->src, b->dst, n);
	for (i = 0; i < n; i++)
		busy += evict_busy(base + i, b->src[i]);
	migrate_device_finalize(b->src, b->dst, n);
	return busy;
}

/*
 * How many pages, from the pagemap's first, a pass covers: the window's,
 * and on to the batch boundary after them within the pagemap, so that a
 * large folio straddling the window's end (the pagemap may be larger)
 * moves whole.
 */
static unsigned long evict_npages(const struct hmm_p2p_bar_window *win)
{
	unsigned long end_pfn = win->private_base_pfn + (win->size >> PAGE_SHIFT);

	return min(win->private_npages,
		   ALIGN(end_pfn, EVICT_BATCH) - win->private_base_pfn);
}

/* The batch-aligned block of @pfn, counted from the pagemap's first. */
static unsigned long evict_block(const struct hmm_p2p_bar_window *win,
				 unsigned long pfn)
{
	return pfn / EVICT_BATCH - win->private_base_pfn / EVICT_BATCH;
}

static unsigned long evict_nblocks(const struct hmm_p2p_bar_window *win)
{
	return evict_block(win, win->private_base_pfn + evict_npages(win) - 1) +
	       1;
}

/*
 * The pages of the live folio whose head is @pfn, or 0: a free page, or a
 * tail. A freed large device folio keeps its order in its struct pages,
 * and migrate_device_range() takes it from there even for a free page: it
 * would skip the live small pages now allocated in its place (xe's
 * allocator fills a freed 2 MiB block from the top), and a pass would find
 * them busy for as long as they live. So only live folios are handed to
 * it, one at a time.
 */
static unsigned long evict_live_folio(unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);
	unsigned long nr;

	if (!get_page_unless_zero(page))
		return 0;
	nr = folio_nr_pages(page_folio(page));
	put_page(page);
	return nr;
}

/*
 * One pass over the blocks still @pending, folio by folio; a block none of
 * whose pages stayed behind is done. Returns how many pages stayed behind.
 */
static unsigned long evict_pass(const struct hmm_p2p_bar_window *win,
				struct evict_batch *b, bool copy,
				unsigned long *pending)
{
	unsigned long npages = evict_npages(win), first, busy = 0;

	for (first = 0; first < npages;) {
		unsigned long pfn = win->private_base_pfn + first, left = 0;
		unsigned long n = min(npages - first,
				      ALIGN(pfn + 1, EVICT_BATCH) - pfn);
		unsigned long i, nr;

		if (!test_bit(evict_block(win, pfn), pending)) {
			first += n;
			continue;
		}
		for (i = 0; i < n; i += nr) {
			nr = min(evict_live_folio(pfn + i), n - i);
			if (!nr) {
				nr = 1;
				continue;
			}
			left += evict_batch(win, first + i, nr, b, copy);
		}
		if (!left)
			clear_bit(evict_block(win, pfn), pending);
		busy += left;
		first += n;
	}
	return busy;
}

/*
 * Until every page the window covers was unmapped (and, with @copy, left
 * device memory): a page that is locked or referenced right now (a CPU
 * fault migrating it, a migration in the provider) is retried, since giving
 * the window back with it would break the contract. Only the blocks with
 * such a page are passed again. In place, only the blocks an alias was
 * ever handed out in are passed at all: no other page has a mirror to
 * invalidate, and each pass locks pages its driver may want (amdgpu
 * discards the VRAM of a buffer whose pages it cannot migrate during an
 * eviction). Like memunmap_pages() waiting for its pages, this only ends
 * when they settle; it says so if that takes long.
 */
static void window_evict(const struct hmm_p2p_bar_window *win, bool copy)
{
	unsigned long nblocks = evict_nblocks(win), busy, waited = 0;
	unsigned long *pending;
	struct evict_batch *b;

	pending = bitmap_zalloc(nblocks, GFP_KERNEL | __GFP_NOFAIL);
	if (copy)
		bitmap_fill(pending, nblocks);
	else if (win->aliased)
		bitmap_copy(pending, win->aliased, nblocks);
	else
		bitmap_fill(pending, nblocks);	/* not tracked: every block */
	if (bitmap_empty(pending, nblocks)) {
		bitmap_free(pending);
		return;
	}
	b = kmalloc(sizeof(*b), GFP_KERNEL | __GFP_NOFAIL);
	while ((busy = evict_pass(win, b, copy, pending))) {
		if (waited == EVICT_WARN_MS)
			pr_warn("%s: %lu device pages aliased by the BAR %d window are busy, waiting for them to settle\n",
				pci_name(win->pdev), busy, win->bar);
		msleep(20);
		waited += 20;
	}
	kfree(b);
	bitmap_free(pending);
}

/*
 * Revoke every alias (evicting with @copy, in place without), then give the
 * window back: kept until the device's driver unbinds, or to the pool. The
 * P2PDMA pagemap itself is device-managed: it goes away when the PCI
 * device's driver unbinds (or stays for the next user of the same window,
 * see init).
 */
static void window_retire(struct hmm_p2p_bar_window *win, bool copy)
{
	if (!win || !win->kaddr)
		return;
	mutex_lock(&hmm_p2p_windows_lock);
	list_del(&win->node);
	mutex_unlock(&hmm_p2p_windows_lock);
	if (win->private_base_pfn)
		window_evict(win, copy);
	/* Borrowed pages are the driver's: only our reference goes back. */
	if (win->borrowed)
		put_dev_pagemap(win->borrowed);
	else if (!window_keep(win))
		pci_free_p2pmem(win->pdev, win->kaddr, win->size);
	win->borrowed = NULL;
	WRITE_ONCE(win->kaddr, NULL);
	bitmap_free(win->aliased);
	win->aliased = NULL;
	WRITE_ONCE(win->private_base_pfn, 0);
	win->private_npages = 0;
}

void hmm_p2p_bar_window_fini(struct hmm_p2p_bar_window *win)
{
	window_retire(win, true);
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_fini);

void hmm_p2p_bar_window_fini_in_place(struct hmm_p2p_bar_window *win)
{
	window_retire(win, false);
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_fini_in_place);

bool hmm_p2p_bar_window_doomed(const struct hmm_p2p_bar_window *win)
{
	return win->borrowed && percpu_ref_is_dying(&win->borrowed->ref);
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_doomed);

/* ---- translation ----------------------------------------------------------- */

/*
 * The pagemap may be larger than the window (free regions are handed out in
 * memory-section granules): its pages beyond the window have no alias and
 * fall back (hmm_p2p_bar_window_offset() says -ERANGE).
 */
int hmm_p2p_bar_window_attach(struct hmm_p2p_bar_window *win,
			      struct dev_pagemap *pgmap)
{
	if (!win || !win->kaddr || !pgmap || pgmap->nr_range != 1 ||
	    pgmap->type != MEMORY_DEVICE_PRIVATE ||
	    range_len(&pgmap->range) < win->size) {
		pr_err("bar window: pagemap does not match the window\n");
		return -EINVAL;
	}
	if (win->private_base_pfn) {
		pr_err("bar window: a pagemap is attached already\n");
		return -EBUSY;
	}
	win->private_npages = range_len(&pgmap->range) >> PAGE_SHIFT;
	/* Read by hmm_p2p_bar_windows_emit() without the provider's locks. */
	WRITE_ONCE(win->private_base_pfn, PHYS_PFN(pgmap->range.start));
	win->aliased = bitmap_zalloc(evict_nblocks(win), GFP_KERNEL);
	if (!win->aliased) {
		WRITE_ONCE(win->private_base_pfn, 0);
		win->private_npages = 0;
		return -ENOMEM;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_attach);

/*
 * One line per window attached to a pagemap starting in [start, end) (pfns
 * of a declared range): "<bar> <offset> <size>", offset and size in bytes,
 * in hex. Under the registry's SRCU read section (sysfs); a window is in
 * the list from init to fini.
 */
int hmm_p2p_bar_windows_emit(unsigned long start, unsigned long end,
			     char *buf, int at)
{
	const struct hmm_p2p_bar_window *win;
	unsigned long pfn;
	int len = 0;

	mutex_lock(&hmm_p2p_windows_lock);
	list_for_each_entry(win, &hmm_p2p_windows, node) {
		pfn = READ_ONCE(win->private_base_pfn);
		if (pfn && pfn >= start && pfn < end)
			len += sysfs_emit_at(buf, at + len, "%d %#llx %#zx\n",
					     win->bar, win->bar_offset,
					     win->size);
	}
	mutex_unlock(&hmm_p2p_windows_lock);
	return len;
}

int hmm_p2p_bar_window_offset(const struct hmm_p2p_bar_window *win,
			      struct page *page, u64 *offset)
{
	unsigned long pfn = page_to_pfn(page);

	if (!win->private_base_pfn || pfn < win->private_base_pfn ||
	    pfn - win->private_base_pfn >= win->size >> PAGE_SHIFT)
		return -ERANGE;
	/*
	 * Whoever asks may make an alias of it: the retirement in place must
	 * invalidate this block (test first: this is the fault path). A
	 * window the helper did not attach records nothing.
	 */
	if (win->aliased && !test_bit(evict_block(win, pfn), win->aliased))
		set_bit(evict_block(win, pfn), win->aliased);
	*offset = (u64)(pfn - win->private_base_pfn) << PAGE_SHIFT;
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_offset);

int hmm_p2p_bar_window_alias(void *priv, struct page *page,
			     unsigned long *alias_pfn)
{
	const struct hmm_p2p_bar_window *win = priv;
	u64 offset;
	int ret;

	/* Given back (fini): nothing aliases into it any more. */
	if (!READ_ONCE(win->kaddr))
		return -ENODEV;
	ret = hmm_p2p_bar_window_offset(win, page, &offset);
	if (ret)
		return ret;
	*alias_pfn = win->alias_base_pfn + (offset >> PAGE_SHIFT);
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_alias);
