// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: the GPU side. Binding an ivshmem-plain device sets up
 *
 *   BAR2 window (P2PDMA pages, the GPU's own UC view)  <- hmm_p2p BAR window
 *   device-private pagemap of the same size            <- memremap_pages()
 *   hmm-p2p provider "egpu-<pci name>"                 <- aliases
 *   /dev/hmm_p2p_egpu<N>                               <- the ioctls
 *
 * Device page N, VRAM offset N * PAGE_SIZE and device-private pfn base + N
 * are the same thing: the helper's linear translation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hmm_p2p_compat.h"
#include "egpu.h"
#include "../../gpu_p2p/gpu_layout.h"

#define EGPU_BAR 2

static DEFINE_IDA(egpu_ida);

/* Bound GPUs, for a provider that answers with a peer's alias. */
static LIST_HEAD(egpu_gpus);
static DEFINE_SPINLOCK(egpu_gpus_lock);

/* ---- device page allocator ---------------------------------------------- */

static struct egpu *egpu_of_page(struct page *page)
{
	return container_of(hmm_p2p_page_pgmap(page), struct egpu, pgmap);
}

bool egpu_owns_page(struct egpu *gpu, struct page *page)
{
	return is_device_private_page(page) &&
	       hmm_p2p_page_pgmap(page) == &gpu->pgmap;
}

/* The GPU's own view of a device page: its bytes in the BAR window. */
void *egpu_page_vram(struct egpu *gpu, struct page *page)
{
	u64 offset;

	if (hmm_p2p_bar_window_offset(&gpu->win, page, &offset))
		return NULL;
	return gpu->win.kaddr + offset;
}

/* First fit, so a freed page is reused at once (tests rely on reuse). */
struct page *egpu_alloc_dev_page(struct egpu *gpu)
{
	struct page *page;
	unsigned long i;

	spin_lock(&gpu->alloc_lock);
	i = find_first_zero_bit(gpu->used, gpu->npages);
	if (i < gpu->npages)
		__set_bit(i, gpu->used);
	spin_unlock(&gpu->alloc_lock);
	if (i >= gpu->npages)
		return NULL;

	atomic_long_inc(&gpu->in_use);
	page = pfn_to_page(gpu->win.private_base_pfn + i);
	/* Refcount 1 and locked, as migrate_vma_pages() wants it. */
	hmm_p2p_zone_device_page_init(page, &gpu->pgmap);
	return page;
}

static void egpu_free_dev_page(struct page *page)
{
	struct egpu *gpu = egpu_of_page(page);
	unsigned long i = page_to_pfn(page) - gpu->win.private_base_pfn;

	spin_lock(&gpu->alloc_lock);
	__clear_bit(i, gpu->used);
	spin_unlock(&gpu->alloc_lock);
	atomic_long_dec(&gpu->in_use);
}

/* Probe have_folio_free_op: 6.19 renamed page_free to folio_free. */
#ifdef HMM_P2P_HAVE_FOLIO_FREE_OP
static void egpu_folio_free(struct folio *folio)
{
	egpu_free_dev_page(&folio->page);
}
#else
static void egpu_page_free(struct page *page)
{
	egpu_free_dev_page(page);
}
#endif

static const struct dev_pagemap_ops egpu_pgmap_ops = {
#ifdef HMM_P2P_HAVE_FOLIO_FREE_OP
	.folio_free = egpu_folio_free,
#else
	.page_free = egpu_page_free,
#endif
	.migrate_to_ram = egpu_migrate_to_ram,
};

/* ---- hmm-p2p provider --------------------------------------------------- */

/*
 * A buggy provider: the P2PDMA page at the same offset of another GPU's
 * window. The peer stays on the list, with its window, until its removal
 * has taken it off under the lock.
 */
/* Is @pdev a bound GPU of ours that has its provider registered? */
bool egpu_pdev_is_provider(struct pci_dev *pdev)
{
	struct egpu *gpu;
	bool ret = false;

	spin_lock(&egpu_gpus_lock);
	list_for_each_entry(gpu, &egpu_gpus, node)
		if (gpu->pdev == pdev && READ_ONCE(gpu->prov))
			ret = true;
	spin_unlock(&egpu_gpus_lock);
	return ret;
}

static int egpu_foreign_alias(struct egpu *gpu, u64 offset,
			      unsigned long *alias_pfn)
{
	struct egpu *peer;
	int ret = -ENODEV;

	spin_lock(&egpu_gpus_lock);
	list_for_each_entry(peer, &egpu_gpus, node) {
		if (peer == gpu || offset >= peer->win.size)
			continue;
		*alias_pfn = peer->win.alias_base_pfn + (offset >> PAGE_SHIFT);
		ret = 0;
		break;
	}
	spin_unlock(&egpu_gpus_lock);
	return ret;
}

/*
 * FAULT's EGPU_FAULT_PLANT_LATE: hmm-p2p asks for an alias in the middle
 * of its pass, after it copied the caller's slots and walked: a stale
 * valid slot stored now is one a walker delayed across an invalidation
 * stores there (the zero page, never mapped by the device). Only in the
 * task that armed it, which owns the slot's mirror until it disarms.
 */
int egpu_plant_arm(struct egpu *gpu, unsigned long *slot)
{
	if (cmpxchg(&gpu->plant_task, NULL, current))
		return -EBUSY;
	WRITE_ONCE(gpu->plant_late, slot);
	return 0;
}

/* Whether the slot was planted since egpu_plant_arm(). */
bool egpu_plant_disarm(struct egpu *gpu)
{
	bool planted = !xchg(&gpu->plant_late, NULL);

	/* The slot is gone before another task may arm. */
	smp_store_release(&gpu->plant_task, NULL);
	return planted;
}

static void egpu_plant_late(struct egpu *gpu)
{
	unsigned long *slot;

	if (likely(!READ_ONCE(gpu->plant_late)) ||
	    READ_ONCE(gpu->plant_task) != current)
		return;
	slot = xchg(&gpu->plant_late, NULL);
	if (slot)
		WRITE_ONCE(*slot, page_to_pfn(ZERO_PAGE(0)) | HMM_PFN_VALID);
}

/*
 * The helper's translation, except for the pages SET_REFUSE names: those
 * are refused (or, with EGPU_REFUSE_FOREIGN, answered with another GPU's
 * alias) so that the core's per-page fallback path gets exercised.
 */
static int egpu_alias(void *priv, struct page *page, unsigned long *alias_pfn)
{
	struct egpu *gpu = priv;
	unsigned int modulo = READ_ONCE(gpu->refuse_modulo);
	unsigned int flags = READ_ONCE(gpu->refuse_flags);
	u64 offset;
	int ret;

	egpu_plant_late(gpu);
	if (!modulo && !flags)
		return hmm_p2p_bar_window_alias(&gpu->win, page, alias_pfn);
	ret = hmm_p2p_bar_window_offset(&gpu->win, page, &offset);
	if (ret)
		return ret;
	if (modulo && (offset >> PAGE_SHIFT) % modulo == 0) {
		atomic64_inc(&gpu->stats.alias_refused);
		return -EACCES;
	}
	if (flags & EGPU_REFUSE_FOREIGN)
		return egpu_foreign_alias(gpu, offset, alias_pfn);
	return hmm_p2p_bar_window_alias(&gpu->win, page, alias_pfn);
}

static int egpu_register_provider(struct egpu *gpu)
{
	struct hmm_p2p_provider_desc desc = {
		.name = gpu->prov_name,
		.owner = egpu_owner(gpu),
		.pdev = gpu->pdev,
		.alias = egpu_alias,
		.priv = gpu,
	};
	int ret;

	gpu->prov = hmm_p2p_register_provider(&desc);
	if (IS_ERR(gpu->prov)) {
		ret = PTR_ERR(gpu->prov);
		gpu->prov = NULL;
		return ret;
	}
	ret = hmm_p2p_provider_add_pagemap(gpu->prov, &gpu->pgmap);
	if (ret) {
		hmm_p2p_unregister_provider(gpu->prov);
		gpu->prov = NULL;
	}
	gpu->pagemap_declared = !ret;
	return ret;
}

/* PROVIDER WITHDRAW / DECLARE, with the pagemap lock held first. */
static int egpu_pagemap_change(struct egpu *gpu, bool declare,
			       unsigned int hold_ms)
{
	int ret = 0;

	mutex_lock(&gpu->pagemap_lock);
	if (hold_ms)
		msleep(hold_ms);
	if (gpu->pagemap_declared == declare)
		ret = -EALREADY;
	else if (declare)
		ret = hmm_p2p_provider_add_pagemap(gpu->prov, &gpu->pgmap);
	else
		hmm_p2p_provider_remove_pagemap(gpu->prov, &gpu->pgmap);
	if (!ret)
		gpu->pagemap_declared = declare;
	mutex_unlock(&gpu->pagemap_lock);
	return ret;
}

long egpu_ioctl_provider(struct egpu_file *f, void __user *arg)
{
	struct egpu_provider req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.hold_ms > 10000)
		return -EINVAL;
	if (egpu_unaware())
		return -EOPNOTSUPP;	/* the provider is gpu_p2p's */
	switch (req.op) {
	case EGPU_PROVIDER_WITHDRAW:
		return egpu_pagemap_change(f->gpu, false, req.hold_ms);
	case EGPU_PROVIDER_DECLARE:
		return egpu_pagemap_change(f->gpu, true, req.hold_ms);
	default:
		/* TEARDOWN is dispatched before the live commands. */
		return -EINVAL;
	}
}

/*
 * The provider goes, the device stays bound: what unloading a provider
 * module does. No alias lookup after unregistering; the window helper
 * moves what is still in VRAM to RAM before the window goes.
 */
static void egpu_unmap_vram(struct egpu *gpu);

static void egpu_provider_down(struct egpu *gpu)
{
	if (egpu_unaware()) {
		/* Our own view of BAR2 only; gpu_p2p saw the unbind first. */
		egpu_unmap_vram(gpu);
		return;
	}
	mutex_lock(&gpu->teardown_lock);
	hmm_p2p_unregister_provider(gpu->prov);
	gpu->prov = NULL;
	hmm_p2p_bar_window_fini(&gpu->win);
	mutex_unlock(&gpu->teardown_lock);
}

/* PROVIDER TEARDOWN; called without remove_sem (it takes it for write). */
long egpu_teardown(struct egpu *gpu)
{
	if (egpu_unaware())
		return -EOPNOTSUPP;
	down_write(&gpu->remove_sem);
	if (gpu->dead) {
		up_write(&gpu->remove_sem);
		return -ENODEV;
	}
	gpu->dead = true;
	up_write(&gpu->remove_sem);
	egpu_provider_down(gpu);
	dev_info(&gpu->pdev->dev, "provider %s torn down, device still bound\n",
		 gpu->prov_name);
	return 0;
}

static void egpu_xe_layout(struct egpu *gpu, size_t size);
static int egpu_pagemap_init(struct egpu *gpu, size_t size);
static void egpu_pagemap_fini(struct egpu *gpu);

/*
 * PROVIDER RECREATE (xe_like): destroy the pagemap and create a new one, as
 * xe's shrinker and its next use do. xe destroys a pagemap only once no
 * page of it is in use: pages go back to RAM first. memunmap_pages() then
 * waits for gpu_p2p to let go of the pagemap (its scan sees the reference
 * dying). Called without remove_sem: it takes it for write, so no other
 * command runs meanwhile.
 */
long egpu_recreate_pagemap(struct egpu *gpu)
{
	size_t size = gpu->npages << PAGE_SHIFT;
	phys_addr_t old;
	int ret;

	if (!egpu_xe_like)
		return -EOPNOTSUPP;
	down_write(&gpu->remove_sem);
	if (gpu->dead) {
		up_write(&gpu->remove_sem);
		return -ENODEV;
	}
	old = gpu->pgmap.range.start;
	egpu_evict_all(gpu);
	egpu_pagemap_fini(gpu);
	egpu_xe_layout(gpu, size);
	ret = egpu_pagemap_init(gpu, size);
	if (ret) {
		/* No device memory any more: the GPU is gone for its users. */
		gpu->dead = true;
		dev_err(&gpu->pdev->dev, "no new pagemap: %d\n", ret);
	} else {
		gpu->win.private_base_pfn = PHYS_PFN(gpu->pgmap.range.start);
		dev_info(&gpu->pdev->dev, "pagemap at %pa destroyed, new one at %pa\n",
			 &old, &gpu->pgmap.range.start);
	}
	up_write(&gpu->remove_sem);
	return ret;
}

/* ---- setup and teardown ------------------------------------------------- */

static size_t egpu_vram_size(struct pci_dev *pdev)
{
	resource_size_t bar_len = pci_resource_len(pdev, EGPU_BAR);
	u64 want = egpu_vram_mb ? (u64)egpu_vram_mb << 20 : bar_len;

	if (!(pci_resource_flags(pdev, EGPU_BAR) & IORESOURCE_MEM) ||
	    !want || want > bar_len || !IS_ALIGNED(want, SUBSECTION_SIZE)) {
		dev_err(&pdev->dev, "BAR%d (%pa bytes) cannot hold %llu bytes of VRAM\n",
			EGPU_BAR, &bar_len, want);
		return 0;
	}
	return want;
}

static int egpu_pagemap_init(struct egpu *gpu, size_t size)
{
	int nid = dev_to_node(&gpu->pdev->dev);
	void *addr;

	/* amdgpu and xe name their regions after the PCI device. */
	gpu->res = request_free_mem_region(&iomem_resource, size,
					   egpu_unaware() ?
					   pci_name(gpu->pdev) : gpu->misc_name);
	if (IS_ERR(gpu->res)) {
		int ret = PTR_ERR(gpu->res);

		gpu->res = NULL;
		return ret;
	}
	/*
	 * The region may be larger (rounded up to a memory section); the
	 * pagemap covers exactly the VRAM, page for page with the window.
	 */
	gpu->pgmap.type = MEMORY_DEVICE_PRIVATE;
	gpu->pgmap.range.start = gpu->res->start;
	gpu->pgmap.range.end = gpu->res->start + size - 1;
	gpu->pgmap.nr_range = 1;
	gpu->pgmap.ops = &egpu_pgmap_ops;
	gpu->pgmap.owner = egpu_owner(gpu);
#ifdef GPUP2P_XE_PGMAP_TO_HPA_BASE
	/* xe_like: hpa_base 0 until the pagemap is mapped, as in xe. */
	if (egpu_xe_like)
		*(resource_size_t *)((char *)&gpu->pgmap +
				     GPUP2P_XE_PGMAP_TO_HPA_BASE) = 0;
#endif
	addr = memremap_pages(&gpu->pgmap, nid < 0 ? numa_node_id() : nid);
	if (IS_ERR(addr)) {
		release_mem_region(gpu->res->start, resource_size(gpu->res));
		gpu->res = NULL;
		return PTR_ERR(addr);
	}
#ifdef GPUP2P_XE_PGMAP_TO_HPA_BASE
	/* xe keeps the region's start as hpa_base, set after mapping. */
	if (egpu_xe_like)
		WRITE_ONCE(*(resource_size_t *)((char *)&gpu->pgmap +
						GPUP2P_XE_PGMAP_TO_HPA_BASE),
			   gpu->res->start);
#endif
	gpu->pgmap_live = true;
	return 0;
}

static void egpu_pagemap_fini(struct egpu *gpu)
{
	if (gpu->pgmap_live) {
		memunmap_pages(&gpu->pgmap);
		gpu->pgmap_live = false;
	}
	if (gpu->res) {
		release_mem_region(gpu->res->start, resource_size(gpu->res));
		gpu->res = NULL;
	}
}

static void egpu_release(struct kref *kref)
{
	struct egpu *gpu = container_of(kref, struct egpu, kref);

	bitmap_free(gpu->used);
	pci_dev_put(gpu->pdev);
	kfree(gpu);
}

void egpu_put(struct egpu *gpu)
{
	kref_put(&gpu->kref, egpu_release);
}

static struct egpu *egpu_create(struct pci_dev *pdev, size_t size)
{
	struct egpu *gpu;

	gpu = kzalloc_obj(*gpu, GFP_KERNEL);
	if (!gpu)
		return NULL;
	gpu->npages = size >> PAGE_SHIFT;
	gpu->used = bitmap_zalloc(gpu->npages, GFP_KERNEL);
	if (!gpu->used) {
		kfree(gpu);
		return NULL;
	}
	kref_init(&gpu->kref);
	init_rwsem(&gpu->remove_sem);
	spin_lock_init(&gpu->alloc_lock);
	mutex_init(&gpu->pagemap_lock);
	mutex_init(&gpu->teardown_lock);
	INIT_LIST_HEAD(&gpu->node);
	gpu->pdev = pci_dev_get(pdev);
	/* amdgpu_like, xe_like: the provider is gpu_p2p's, named after the device. */
	snprintf(gpu->prov_name, sizeof(gpu->prov_name),
		 egpu_unaware() ? "gpu-%s" : "egpu-%s", pci_name(pdev));
	return gpu;
}

/*
 * xe_like: what xe has beside its pagemap, where gpu_p2p/gpu_layout.h says:
 * a struct drm_pagemap pointing back at the pagemap and naming a
 * drm_device of the PCI device, and a VRAM region saying where BAR 2 shows
 * the pagemap (io_start) and how much of it (io_size). Before the pagemap
 * is mapped, so that whoever finds it finds all of it.
 */
static bool egpu_xe_layout_holds(void)
{
#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	return GPUP2P_XE_LAYOUT_HOLDS() &&
	       offsetof(struct egpu, xe_tail) - offsetof(struct egpu, pgmap) ==
		       GPUP2P_XE_SIZEOF_DEV_PAGEMAP;
#else
	return false;
#endif
}

#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
/* xe's drm_pagemap callbacks are in xe.ko; ours are in this module. */
static const struct drm_pagemap_ops egpu_xe_dpagemap_ops;
#endif

static void egpu_xe_layout(struct egpu *gpu, size_t size)
{
#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	struct drm_pagemap *dp = (void *)((char *)&gpu->pgmap +
					  GPUP2P_XE_PGMAP_TO_DPAGEMAP);
	u64 io_size = egpu_xe_io_mb ? (u64)egpu_xe_io_mb << 20 : size;

	gpu->xe_drm.dev = &gpu->pdev->dev;
	dp->ops = &egpu_xe_dpagemap_ops;
	dp->drm = &gpu->xe_drm;
	dp->pagemap = &gpu->pgmap;
	*(void **)((char *)&gpu->pgmap + GPUP2P_XE_PGMAP_TO_VR) = gpu->xe_vram;
	/* The region's xe device, whose drm_device is its first member. */
	*(void **)(gpu->xe_vram + GPUP2P_XE_VR_XE) =
		(char *)&gpu->xe_drm - GPUP2P_XE_XE_DRM;
	*(resource_size_t *)(gpu->xe_vram + GPUP2P_XE_VR_IO_START) =
		pci_resource_start(gpu->pdev, EGPU_BAR);
	*(resource_size_t *)(gpu->xe_vram + GPUP2P_XE_VR_IO_SIZE) =
		min_t(u64, io_size, size);
#endif
}

/*
 * amdgpu-like, xe-like: the GPU's own (uncached) view of BAR2 instead of a
 * P2PDMA window, and the window fields the device page allocator uses; no
 * provider. gpu_p2p registers the P2PDMA window over the same BAR.
 */
/*
 * The GPU's own view of its VRAM, as the drivers make it: amdgpu reserves
 * all of the BAR write-combined and adds an MTRR (amdgpu_bo_init()), then
 * maps what it uses write-combined (amdgpu_ttm_init()); xe maps the BAR
 * write-combined (xe_vram.c). gpu_p2p's P2PDMA registration comes later,
 * over the same bytes.
 */
static void __iomem *egpu_map_vram(struct egpu *gpu, size_t size)
{
	resource_size_t start = pci_resource_start(gpu->pdev, EGPU_BAR);
	resource_size_t len = pci_resource_len(gpu->pdev, EGPU_BAR);
	void __iomem *va;

	if (egpu_amdgpu_like) {
		if (arch_io_reserve_memtype_wc(start, len))
			return NULL;
		gpu->wc_reserved = true;
		gpu->wc_mtrr = arch_phys_wc_add(start, len);
	}
	va = ioremap_wc(start, size);
	if (!va)
		egpu_unmap_vram(gpu);
	return va;
}

static void egpu_unmap_vram(struct egpu *gpu)
{
	resource_size_t start = pci_resource_start(gpu->pdev, EGPU_BAR);
	resource_size_t len = pci_resource_len(gpu->pdev, EGPU_BAR);

	if (gpu->win.kaddr)
		iounmap((void __iomem __force *)gpu->win.kaddr);
	gpu->win.kaddr = NULL;
	if (gpu->wc_reserved) {
		arch_phys_wc_del(gpu->wc_mtrr);
		arch_io_free_memtype_wc(start, len);
		gpu->wc_reserved = false;
	}
}

static int egpu_setup_unaware(struct egpu *gpu, size_t size)
{
	int ret;

	if (egpu_xe_like)
		egpu_xe_layout(gpu, size);

	gpu->win.kaddr = (void __force *)egpu_map_vram(gpu, size);
	if (!gpu->win.kaddr)
		return -ENOMEM;
	/* Device-managed: the P2PDMA memory goes when the driver unbinds. */
	if (egpu_own_p2pdma) {
		ret = pci_p2pdma_add_resource(gpu->pdev, EGPU_BAR, 0, 0);
		if (ret) {
			egpu_unmap_vram(gpu);
			return ret;
		}
	}
	gpu->win.pdev = gpu->pdev;
	gpu->win.bar = EGPU_BAR;
	gpu->win.size = size;
	ret = egpu_pagemap_init(gpu, size);
	if (ret) {
		egpu_unmap_vram(gpu);
		return ret;
	}
	gpu->win.private_base_pfn = PHYS_PFN(gpu->pgmap.range.start);
	gpu->win.private_npages = size >> PAGE_SHIFT;
	return 0;
}

/* Where amdgpu's PCI drvdata would be for this pagemap. */
static void *egpu_amdgpu_drvdata(struct egpu *gpu)
{
#ifdef GPUP2P_AMDGPU_DDEV_TO_PGMAP
	return (char *)&gpu->pgmap - GPUP2P_AMDGPU_DDEV_TO_PGMAP;
#else
	return NULL;
#endif
}

static struct egpu *egpu_of_pdev(struct pci_dev *pdev)
{
	char *drvdata = pci_get_drvdata(pdev);

	if (!egpu_amdgpu_like)
		return (struct egpu *)drvdata;
#ifdef GPUP2P_AMDGPU_DDEV_TO_PGMAP
	drvdata += GPUP2P_AMDGPU_DDEV_TO_PGMAP;
#endif
	return container_of((struct dev_pagemap *)drvdata, struct egpu, pgmap);
}

/* Everything between the window and the provider, in order. */
static int egpu_setup_memory(struct egpu *gpu, size_t size)
{
	int ret;

	if (egpu_unaware())
		return egpu_setup_unaware(gpu, size);

	ret = hmm_p2p_bar_window_init(&gpu->win, gpu->pdev, EGPU_BAR, 0, size);
	if (ret)
		return ret;
	ret = egpu_pagemap_init(gpu, size);
	if (ret)
		goto err_window;
	ret = hmm_p2p_bar_window_attach(&gpu->win, &gpu->pgmap);
	if (ret)
		goto err_pagemap;
	ret = egpu_register_provider(gpu);
	if (ret)
		goto err_pagemap;
	return 0;

err_pagemap:
	/* The window's teardown evicts through the pagemap: it goes first. */
	hmm_p2p_bar_window_fini(&gpu->win);
	egpu_pagemap_fini(gpu);
	return ret;
err_window:
	hmm_p2p_bar_window_fini(&gpu->win);
	return ret;
}

static int egpu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct egpu *gpu;
	size_t size;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	size = egpu_vram_size(pdev);
	if (!size)
		return -EINVAL;
	if (egpu_unaware() && !IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		dev_err(&pdev->dev, "amdgpu_like and xe_like need CONFIG_PCI_P2PDMA\n");
		return -EOPNOTSUPP;
	}
#ifndef GPUP2P_AMDGPU_DDEV_TO_PGMAP
	if (egpu_amdgpu_like) {
		dev_err(&pdev->dev, "amdgpu_like: no verified amdgpu layout for this kernel series\n");
		return -EOPNOTSUPP;
	}
#endif
	if (egpu_xe_like && !egpu_xe_layout_holds()) {
		dev_err(&pdev->dev, "xe_like: no verified xe layout for this kernel and configuration\n");
		return -EOPNOTSUPP;
	}
	gpu = egpu_create(pdev, size);
	if (!gpu)
		return -ENOMEM;

	ret = ida_alloc(&egpu_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	gpu->index = ret;
	snprintf(gpu->misc_name, sizeof(gpu->misc_name), "hmm_p2p_egpu%d",
		 gpu->index);

	ret = egpu_setup_memory(gpu, size);
	if (ret)
		goto err_ida;

	gpu->misc.minor = MISC_DYNAMIC_MINOR;
	gpu->misc.name = gpu->misc_name;
	gpu->misc.fops = &egpu_fops;
	gpu->misc.parent = &pdev->dev;
	ret = misc_register(&gpu->misc);
	if (ret)
		goto err_memory;

	pci_set_drvdata(pdev, egpu_amdgpu_like ? egpu_amdgpu_drvdata(gpu) : gpu);
	spin_lock(&egpu_gpus_lock);
	list_add_tail(&gpu->node, &egpu_gpus);
	spin_unlock(&egpu_gpus_lock);
	dev_info(&pdev->dev, "/dev/%s: %zu MiB of VRAM, provider %s\n",
		 gpu->misc_name, size >> 20, gpu->prov_name);
	return 0;

err_memory:
	/* Provider and window (or our own view of BAR2) before the pagemap. */
	egpu_provider_down(gpu);
	egpu_pagemap_fini(gpu);
err_ida:
	ida_free(&egpu_ida, gpu->index);
err_put:
	egpu_put(gpu);
	dev_err(&pdev->dev, "cannot set up the emulated GPU: %d\n", ret);
	return ret;
}

/*
 * Order matters: no new opener, no ioctl in flight, no peer answering with
 * our window, no new hmm-p2p user of our aliases, then every page still in
 * VRAM goes back to RAM so the processes keep their data, and only then the
 * pagemap and the window go away (the window helper would evict what is
 * left, but our own copy keeps our counters).
 */
static void egpu_remove(struct pci_dev *pdev)
{
	struct egpu *gpu = egpu_of_pdev(pdev);

	misc_deregister(&gpu->misc);

	down_write(&gpu->remove_sem);
	gpu->dead = true;
	up_write(&gpu->remove_sem);

	spin_lock(&egpu_gpus_lock);
	list_del_init(&gpu->node);
	spin_unlock(&egpu_gpus_lock);

	mutex_lock(&gpu->teardown_lock);
	hmm_p2p_unregister_provider(gpu->prov);
	gpu->prov = NULL;
	if (gpu->win.kaddr)
		egpu_evict_all(gpu);
	mutex_unlock(&gpu->teardown_lock);
	egpu_provider_down(gpu);
	egpu_pagemap_fini(gpu);
	ida_free(&egpu_ida, gpu->index);
	dev_info(&pdev->dev, "/dev/%s removed\n", gpu->misc_name);
	egpu_put(gpu);
}

static const struct pci_device_id egpu_gpu_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) }, /* ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, egpu_gpu_ids);

struct pci_driver egpu_gpu_driver = {
	.name = "hmm_p2p_egpu",
	.id_table = egpu_gpu_ids,
	.probe = egpu_probe,
	.remove = egpu_remove,
};
