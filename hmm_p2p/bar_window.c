// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BAR-window helper: device memory that is a linear window of a PCI BAR,
 * and a device-private pagemap covering the same bytes page for page.
 *
 *   device-private page -> offset in the window -> P2PDMA page of the BAR
 *
 * Only the window is registered as P2PDMA memory (never the whole BAR), and
 * all of it is allocated to the provider at once, so the p2pmem sysfs
 * allocator of the BAR cannot hand our device memory to anyone else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/pci.h>

#include "hmm_p2p.h"

int hmm_p2p_bar_window_init(struct hmm_p2p_bar_window *win,
			    struct pci_dev *pdev, int bar, u64 bar_offset,
			    size_t size)
{
	u64 end;
	int ret;

	if (!win || !pdev || bar < 0 || bar >= PCI_STD_NUM_BARS || !size ||
	    !PAGE_ALIGNED(size) || !PAGE_ALIGNED(bar_offset) ||
	    check_add_overflow(bar_offset, (u64)size, &end) ||
	    end > pci_resource_len(pdev, bar)) {
		pr_err("bar window: invalid window (bar %d, offset %#llx, size %#zx)\n",
		       bar, bar_offset, size);
		return -EINVAL;
	}
	memset(win, 0, sizeof(*win));

	/*
	 * On 7.x (not 6.12), when its last allocation (gen_pool_add_owner())
	 * fails, pci_p2pdma_add_resource() leaves a devres action on the
	 * pagemap it freed: the device's devres release then reads freed
	 * memory. That is the kernel's to fix (docs/kernel-tiers.md); we
	 * only pass the error on.
	 */
	ret = pci_p2pdma_add_resource(pdev, bar, size, bar_offset);
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
	win->pdev = pdev;
	win->bar = bar;
	win->bar_offset = bar_offset;
	win->size = size;
	win->alias_base_pfn = page_to_pfn(virt_to_page(win->kaddr));
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_init);

/*
 * The P2PDMA pagemap itself is device-managed: it goes away when the PCI
 * device's driver unbinds. This only returns the window to the pool.
 */
void hmm_p2p_bar_window_fini(struct hmm_p2p_bar_window *win)
{
	if (!win || !win->kaddr)
		return;
	pci_free_p2pmem(win->pdev, win->kaddr, win->size);
	win->kaddr = NULL;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_fini);

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
	win->private_base_pfn = PHYS_PFN(pgmap->range.start);
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_attach);

int hmm_p2p_bar_window_offset(const struct hmm_p2p_bar_window *win,
			      struct page *page, u64 *offset)
{
	unsigned long pfn = page_to_pfn(page);

	if (!win->private_base_pfn || pfn < win->private_base_pfn ||
	    pfn - win->private_base_pfn >= win->size >> PAGE_SHIFT)
		return -ERANGE;
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

	ret = hmm_p2p_bar_window_offset(win, page, &offset);
	if (ret)
		return ret;
	*alias_pfn = win->alias_base_pfn + (offset >> PAGE_SHIFT);
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_bar_window_alias);
