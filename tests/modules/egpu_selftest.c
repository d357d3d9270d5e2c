// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: API_SELFTEST, the hmm-p2p API fed bad input from the kernel
 * side. Every check that does not get the documented error sets its bit in
 * the result; nothing valid is passed but one registration that must be
 * accepted (a second device with this GPU's owner), and whatever the API
 * accepted is undone at once. Last, the fault path's test for plain
 * memory (hmm_p2p_plain_subsections()) is held against
 * pfn_to_online_page() on every pfn of every section it calls plain.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "egpu.h"
#include "hmm_p2p_compat.h"

struct egpu_selftest_ctx {
	struct egpu_file *f;
	u64 failed;
	unsigned int nr;
};

static void egpu_check(struct egpu_selftest_ctx *t, bool ok)
{
	if (!ok)
		t->failed |= BIT_ULL(t->nr);
	t->nr++;
}

static int egpu_dummy_alias(void *priv, struct page *page,
			    unsigned long *alias_pfn)
{
	return -EOPNOTSUPP;
}

/* True if registering @desc fails with exactly @err. */
static bool egpu_register_fails(const struct hmm_p2p_provider_desc *desc,
				int err)
{
	struct hmm_p2p_provider *prov = hmm_p2p_register_provider(desc);

	if (!IS_ERR(prov)) {
		hmm_p2p_unregister_provider(prov);
		return false;
	}
	return PTR_ERR(prov) == err;
}

static void egpu_selftest_register(struct egpu_selftest_ctx *t)
{
	struct egpu *gpu = t->f->gpu;
	const struct hmm_p2p_provider_desc good = {
		.name = "egpu-selftest",
		.owner = &t->nr,	/* an owner nobody else uses */
		.pdev = gpu->pdev,
		.alias = egpu_dummy_alias,
	};
	struct hmm_p2p_provider_desc d;

	egpu_check(t, egpu_register_fails(NULL, -EINVAL));
	d = good;
	d.owner = NULL;
	egpu_check(t, egpu_register_fails(&d, -EINVAL));
	d = good;
	d.pdev = NULL;
	egpu_check(t, egpu_register_fails(&d, -EINVAL));
	d = good;
	d.name = "egpu-selftest-a-provider-name-that-is-much-too-long-for-hmm-p2p";
	egpu_check(t, egpu_register_fails(&d, -EINVAL));
	d = good;
	d.alias = NULL;
	egpu_check(t, egpu_register_fails(&d, -EINVAL));
	/* This GPU is registered with its owner. */
	d = good;
	d.owner = egpu_owner(gpu);
	egpu_check(t, egpu_register_fails(&d, -EEXIST));
}

/* Another device of this model, with a reference; NULL if there is none. */
static struct pci_dev *egpu_other_device(struct pci_dev *pdev)
{
	struct pci_dev *other = NULL;

	while ((other = pci_get_device(pdev->vendor, pdev->device, other)))
		if (other != pdev)
			return other;
	return NULL;
}

/*
 * Another device may register with this GPU's owner, as the GPUs of an
 * XGMI hive or xe peers share one: accepted, unless that device is a
 * provider with this owner already (shared_owner, where it is bound).
 */
static void egpu_selftest_shared_owner(struct egpu_selftest_ctx *t)
{
	struct egpu *gpu = t->f->gpu;
	struct hmm_p2p_provider_desc d = {
		.name = "egpu-selftest-peer",
		.owner = egpu_owner(gpu),
		.alias = egpu_dummy_alias,
	};
	struct hmm_p2p_provider *prov;
	struct pci_dev *other = egpu_other_device(gpu->pdev);
	bool peer_registered;

	if (!other) {
		t->nr++;	/* one GPU in the machine: nothing to share */
		return;
	}
	peer_registered = egpu_shared_owner && egpu_pdev_is_provider(other);
	d.pdev = other;
	prov = hmm_p2p_register_provider(&d);
	if (!IS_ERR(prov))
		hmm_p2p_unregister_provider(prov);
	egpu_check(t, peer_registered ? PTR_ERR_OR_ZERO(prov) == -EEXIST :
					!IS_ERR(prov));
	pci_dev_put(other);
}

static void egpu_selftest_range_fault(struct egpu_selftest_ctx *t)
{
	unsigned long pfns[2] = {};
	struct hmm_range r = {
		.notifier = &t->f->notifier,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
	};

	egpu_check(t, hmm_p2p_range_fault(NULL, NULL) == -EINVAL);
	r.start = 16 * PAGE_SIZE;
	r.end = r.start;
	egpu_check(t, hmm_p2p_range_fault(&r, NULL) == -EINVAL);
	r.end = r.start - PAGE_SIZE;
	egpu_check(t, hmm_p2p_range_fault(&r, NULL) == -EINVAL);
	r.start = 16 * PAGE_SIZE + 1;
	r.end = 18 * PAGE_SIZE;
	egpu_check(t, hmm_p2p_range_fault(&r, NULL) == -EINVAL);
	r.start = 16 * PAGE_SIZE;
	r.end = 18 * PAGE_SIZE - 1;
	egpu_check(t, hmm_p2p_range_fault(&r, NULL) == -EINVAL);
}

static void egpu_selftest_pagemap(struct egpu_selftest_ctx *t)
{
	struct egpu *gpu = t->f->gpu;
	struct dev_pagemap *pgmap;
	u64 offset;

	pgmap = kzalloc_obj(*pgmap, GFP_KERNEL);
	if (!pgmap) {
		t->failed |= BIT_ULL(63);
		return;
	}
	/* Looks like ours, but is not device-private memory. */
	pgmap->type = MEMORY_DEVICE_PCI_P2PDMA;
	pgmap->range = gpu->pgmap.range;
	pgmap->nr_range = 1;
	pgmap->owner = egpu_owner(gpu);
	egpu_check(t, hmm_p2p_provider_add_pagemap(gpu->prov, pgmap) == -EINVAL);
	egpu_check(t, hmm_p2p_provider_add_pagemap(NULL, &gpu->pgmap) == -EINVAL);
	egpu_check(t, hmm_p2p_bar_window_attach(&gpu->win, pgmap) == -EINVAL);
	kfree(pgmap);
	/* A system RAM page has no place in the window. */
	egpu_check(t, hmm_p2p_bar_window_offset(&gpu->win, ZERO_PAGE(0),
						&offset) == -ERANGE);
}

/* True if the window @bar/@offset/@size is refused with -EINVAL. */
static bool egpu_window_fails(struct pci_dev *pdev, int bar, u64 offset,
			      size_t size)
{
	struct hmm_p2p_bar_window win;
	int ret;

	ret = hmm_p2p_bar_window_init(&win, pdev, bar, offset, size);
	if (!ret)
		hmm_p2p_bar_window_fini(&win);
	return ret == -EINVAL;
}

static void egpu_selftest_window(struct egpu_selftest_ctx *t)
{
	struct pci_dev *pdev = t->f->gpu->pdev;
	u64 bar_len = pci_resource_len(pdev, 2);

	egpu_check(t, egpu_window_fails(pdev, PCI_STD_NUM_BARS, 0, PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, -1, 0, PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, 0, 0));
	egpu_check(t, egpu_window_fails(pdev, 2, bar_len - PAGE_SIZE,
					2 * PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, bar_len, PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, PAGE_SIZE / 2, PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, 0, PAGE_SIZE + PAGE_SIZE / 2));
	egpu_check(t, egpu_window_fails(NULL, 2, 0, PAGE_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, ~0ULL & PAGE_MASK, 2 * PAGE_SIZE));
	/* Page-aligned, but not on a memory subsection (2 MiB). */
	egpu_check(t, egpu_window_fails(pdev, 2, PAGE_SIZE, SUBSECTION_SIZE));
	egpu_check(t, egpu_window_fails(pdev, 2, 0, SUBSECTION_SIZE + PAGE_SIZE));
}

/*
 * Where a section's map has a bit, the fault path takes the subsection's
 * pfns for ordinary online memory without reading a struct page: each of
 * them must be what pfn_to_online_page() returns a page for, and in such a
 * section no other pfn may be. Returns the pfns where the two disagree;
 * @plain counts the pfns the maps call plain.
 */
static unsigned long egpu_plain_map_mismatches(unsigned long *plain)
{
	unsigned long nr, pfn, bad = 0;

	*plain = 0;
	for (nr = 0; nr < NR_MEM_SECTIONS; nr++) {
		unsigned long map, first = section_nr_to_pfn(nr);

		if (!present_section(__nr_to_section(nr)))
			continue;
		map = hmm_p2p_plain_subsections(nr);
		for (pfn = first; map && pfn < first + PAGES_PER_SECTION; pfn++) {
			unsigned int k = subsection_map_index(pfn) % BITS_PER_LONG;
			bool in_map = map & BIT(k);

			*plain += in_map;
			bad += in_map != !!pfn_to_online_page(pfn);
		}
		cond_resched();
	}
	return bad;
}

static void egpu_selftest_plain_memory(struct egpu_selftest_ctx *t)
{
	struct egpu *gpu = t->f->gpu;
	unsigned long plain, bad = egpu_plain_map_mismatches(&plain);
	unsigned long vram = PHYS_PFN(gpu->pgmap.range.start);
	unsigned long bar = PHYS_PFN(pci_resource_start(gpu->pdev, 2));

	if (bad)
		pr_err("selftest: %lu pfns where the plain-memory map and pfn_to_online_page() disagree\n",
		       bad);
	egpu_check(t, !bad && plain);
	/* This GPU's device-private memory and its BAR are never plain. */
	egpu_check(t, !hmm_p2p_plain_subsections(pfn_to_section_nr(vram)));
	egpu_check(t, !hmm_p2p_plain_subsections(pfn_to_section_nr(bar)));
}

long egpu_ioctl_selftest(struct egpu_file *f, void __user *arg)
{
	struct egpu_selftest_ctx t = { .f = f };
	struct egpu_selftest res = {};

	if (egpu_unaware())
		return -EOPNOTSUPP;	/* no window or provider of its own */
	egpu_selftest_register(&t);
	egpu_selftest_shared_owner(&t);
	egpu_selftest_range_fault(&t);
	egpu_selftest_pagemap(&t);
	egpu_selftest_window(&t);
	egpu_selftest_plain_memory(&t);

	res.failed = t.failed;
	res.nr_checks = t.nr;
	return copy_to_user(arg, &res, sizeof(res)) ? -EFAULT : 0;
}
