// SPDX-License-Identifier: GPL-2.0-only
/*
 * nouveau_p2p: the hmm-p2p provider for nouveau's device memory.
 *
 * nouveau keeps device-private memory in chunks: a pinned VRAM buffer object
 * (BO) and a MEMORY_DEVICE_PRIVATE dev_pagemap covering the same bytes page
 * for page, owned by the nouveau device's struct drm_device. For every chunk
 * this provider
 *
 *   1. has TTM reserve the BO's I/O space, which makes nouveau map the whole
 *      BO into BAR1 (nouveau's ttm io_mem_reserve callback, called by TTM),
 *      and reads the BAR1 address from the BO's ttm_resource;
 *   2. registers exactly that BAR1 window as PCI P2PDMA memory with the
 *      hmm_p2p BAR-window helper (the one the emulated GPU uses), which
 *      reserves the window for us and nothing else of BAR1;
 *   3. declares the chunk's pagemap to hmm_p2p, so that a device-private
 *      page of the chunk answers with the pfn of the P2PDMA page at the same
 *      offset in the window (bounds-checked by the helper).
 *
 * Chunks whose BO does not fit the BAR1 budget stay declared, and their pages
 * are refused with -ENOSPC: they fall back to migration page by page and
 * count as fallback_refused.
 *
 * nouveau exports nothing. What this needs from its private structures is
 * read through offsets verified against nouveau's own sources at build time
 * (nouveau_layout.h, scripts/check-nouveau-layout) and cross-checked against
 * public fields at run time; no nouveau function is ever called, directly or
 * through a pointer. Everything here is compiled on every kernel and idle
 * unless nouveau can have device memory (CONFIG_DRM_NOUVEAU_SVM) and the
 * layout of this kernel series is verified. docs/nouveau.md has the details.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/suspend.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/ttm/ttm_bo.h>
#include <drm/ttm/ttm_placement.h>
#include <drm/ttm/ttm_resource.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"
#include "nouveau_layout.h"

static unsigned int scan_ms = 1000;
module_param(scan_ms, uint, 0444);
MODULE_PARM_DESC(scan_ms,
		 "how often to look for new nouveau device-memory chunks, in ms (default 1000)");

static unsigned int bar1_percent = 50;
module_param(bar1_percent, uint, 0644);
MODULE_PARM_DESC(bar1_percent,
		 "largest share of a GPU's BAR1 the P2P windows may take, in percent (default 50)");

#ifdef NVP2P_LAYOUT_SERIES
#define NVP2P_LAYOUT_KNOWN 1
#else
#define NVP2P_LAYOUT_KNOWN 0
#define NVP2P_LAYOUT_SERIES "none"
#define NVP2P_DRM_DEV 0
#define NVP2P_DRM_DMEM 0
#define NVP2P_DMEM_CHUNKS 0
#define NVP2P_DMEM_MUTEX 0
#define NVP2P_CHUNK_LIST 0
#define NVP2P_CHUNK_BO 0
#define NVP2P_CHUNK_PAGEMAP 0
#define NVP2P_BO_TTM 0
#define NVP2P_SIZEOF_MUTEX 0
#define NVP2P_SIZEOF_DEV_PAGEMAP 0
#define NVP2P_SIZEOF_TTM_DEVICE 0
#define NVP2P_SIZEOF_TTM_BUFFER_OBJECT 0
#define NVP2P_SIZEOF_DEV_PM_DOMAIN 0
#define NVP2P_SIZEOF_WORK_STRUCT 0
#endif

/* For kernels without kzalloc_obj(). */
#ifndef kzalloc_obj
#define kzalloc_obj(obj) kzalloc(sizeof(obj), GFP_KERNEL)
#endif

/* A member of a nouveau structure, at its verified offset. */
#define NVP2P_AT(base, off, type) ((type *)((char *)(base) + (off)))

/* One nouveau dmem chunk as this provider sees it. */
struct nvp2p_chunk {
	struct list_head node;		/* nvp2p_dev.chunks, RCU for readers */
	const void *nv_chunk;		/* nouveau's chunk: identity only */
	struct dev_pagemap *pgmap;	/* inside nouveau's chunk */
	struct ttm_buffer_object *tbo;	/* the chunk's BO */
	struct ttm_bo_kmap_obj kmap;	/* holds the BO's BAR1 mapping */
	bool mapped;			/* kmap holds the BAR1 mapping */
	bool declared;			/* pagemap declared to hmm_p2p */
	bool has_win;			/* win is valid (release/acquire) */
	bool over_budget;		/* refused by bar1_percent only */
	int refused;			/* why there is no window */
	struct hmm_p2p_bar_window win;
};

/* One bound nouveau device with device memory. */
struct nvp2p_dev {
	struct list_head node;		/* nvp2p_devs */
	struct pci_dev *pdev;
	void *drm;			/* struct nouveau_drm */
	struct drm_device *owner;	/* dev_pagemap.owner of its chunks */
	void *dmem;			/* struct nouveau_dmem */
	struct delayed_work scan;
	struct mutex lock;		/* everything below */
	struct hmm_p2p_provider *prov;
	struct list_head chunks;
	u64 bar1_used;			/* bytes of BAR1 in our windows */
	int prov_err;			/* registration failed: stay idle */
	bool rpm;			/* holds a runtime PM reference */
	bool stopped;			/* system sleep or going away */
	char name[32];
};

static bool nvp2p_active;
static DEFINE_MUTEX(nvp2p_mutex);	/* the three below */
static LIST_HEAD(nvp2p_devs);
static bool nvp2p_sleeping;
static bool nvp2p_exiting;

/*
 * The offsets were verified with the sizes of these public types; a kernel
 * configured differently (lock debugging, for instance) moves them.
 */
static bool nvp2p_layout_matches(void)
{
	return NVP2P_LAYOUT_KNOWN &&
	       sizeof(struct mutex) == NVP2P_SIZEOF_MUTEX &&
	       sizeof(struct dev_pagemap) == NVP2P_SIZEOF_DEV_PAGEMAP &&
	       sizeof(struct ttm_device) == NVP2P_SIZEOF_TTM_DEVICE &&
	       sizeof(struct ttm_buffer_object) ==
		       NVP2P_SIZEOF_TTM_BUFFER_OBJECT &&
	       sizeof(struct dev_pm_domain) == NVP2P_SIZEOF_DEV_PM_DOMAIN &&
	       sizeof(struct work_struct) == NVP2P_SIZEOF_WORK_STRUCT;
}

static int nvp2p_alias(void *priv, struct page *page, unsigned long *alias_pfn)
{
	struct nvp2p_dev *nd = priv;
	struct dev_pagemap *pgmap = hmm_p2p_page_pgmap(page);
	struct nvp2p_chunk *c;
	int ret = -ENOENT;

	rcu_read_lock();
	list_for_each_entry_rcu(c, &nd->chunks, node) {
		if (c->pgmap != pgmap)
			continue;
		/* Pairs with the release in nvp2p_chunk_window(). */
		if (smp_load_acquire(&c->has_win))
			ret = hmm_p2p_bar_window_alias(&c->win, page, alias_pfn);
		else
			ret = READ_ONCE(c->refused);
		break;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * The PCI BAR holding [phys, phys + size): nouveau's BAR1 (NVKM_BAR1_FB) is
 * PCI resource 1, or 2 behind a 64-bit BAR0. The index is taken from the
 * address TTM reports and checked against that rule.
 */
static int nvp2p_bar_of(struct pci_dev *pdev, resource_size_t phys, u64 size)
{
	int expect = pci_resource_flags(pdev, 0) & IORESOURCE_MEM_64 ? 2 : 1;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		resource_size_t start = pci_resource_start(pdev, bar);

		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
		    phys < start ||
		    phys + size > start + pci_resource_len(pdev, bar))
			continue;
		return bar == expect ? bar : -ERANGE;
	}
	return -ERANGE;
}

static void nvp2p_unmap_bar1(struct nvp2p_chunk *c)
{
	if (!c->mapped)
		return;
	/* Drops the BO's I/O reservation: nouveau unmaps it from BAR1. */
	ttm_bo_reserve(c->tbo, false, false, NULL);
	ttm_bo_kunmap(&c->kmap);
	ttm_bo_unreserve(c->tbo);
	c->mapped = false;
}

/* Map the chunk's BO into BAR1 and register that window. Called with nd->lock. */
static int nvp2p_chunk_window(struct nvp2p_dev *nd, struct nvp2p_chunk *c)
{
	struct pci_dev *pdev = nd->pdev;
	u64 size = range_len(&c->pgmap->range);
	int expect = pci_resource_flags(pdev, 0) & IORESOURCE_MEM_64 ? 2 : 1;
	u64 budget = pci_resource_len(pdev, expect) / 100 *
		     min(READ_ONCE(bar1_percent), 100U);
	resource_size_t phys;
	int bar, ret;

	c->over_budget = nd->bar1_used + size > budget;
	if (c->over_budget)
		return -ENOSPC;

	ret = ttm_bo_reserve(c->tbo, true, false, NULL);
	if (ret)
		return ret;
	if (!c->tbo->resource || c->tbo->resource->mem_type != TTM_PL_VRAM ||
	    !c->tbo->pin_count) {
		ttm_bo_unreserve(c->tbo);
		return -EAGAIN;
	}
	/* One page: TTM reserves (BAR1-maps) the whole resource first. */
	ret = ttm_bo_kmap(c->tbo, 0, 1, &c->kmap);
	if (!ret) {
		c->mapped = true;
		phys = c->tbo->resource->bus.offset;
		if (!c->tbo->resource->bus.is_iomem || !phys)
			ret = -ENXIO;
	}
	ttm_bo_unreserve(c->tbo);
	if (ret)
		goto unmap;

	bar = nvp2p_bar_of(pdev, phys, size);
	if (bar < 0) {
		ret = bar;
		goto unmap;
	}
	/*
	 * A window registered by an earlier load of this module, or before
	 * a suspend, stays registered (device-managed) until nouveau
	 * unbinds: the helper reuses it when it is exactly this window.
	 */
	ret = hmm_p2p_bar_window_init(&c->win, pdev, bar,
				      phys - pci_resource_start(pdev, bar),
				      size);
	if (ret)
		goto unmap;
	ret = hmm_p2p_bar_window_attach(&c->win, c->pgmap);
	if (ret) {
		hmm_p2p_bar_window_fini(&c->win);
		goto unmap;
	}
	nd->bar1_used += size;
	/* Publish the window before the flag: see nvp2p_alias(). */
	smp_store_release(&c->has_win, true);
	pr_info("%s: chunk at pfn %#lx: P2P window BAR%d+%#llx, %llu MiB\n",
		pci_name(pdev), PHYS_PFN(c->pgmap->range.start), bar,
		(u64)(phys - pci_resource_start(pdev, bar)), size >> 20);
	return 0;

unmap:
	nvp2p_unmap_bar1(c);
	return ret;
}

static bool nvp2p_retry(int err)
{
	return err == -EAGAIN || err == -EINTR || err == -ERESTARTSYS ||
	       err == -EDEADLK;
}

/* Track a chunk found on nouveau's list. Called with nd->lock and dmem->mutex. */
static void nvp2p_chunk_add(struct nvp2p_dev *nd, const void *nv_chunk)
{
	struct dev_pagemap *pgmap =
		NVP2P_AT(nv_chunk, NVP2P_CHUNK_PAGEMAP, struct dev_pagemap);
	void *nvbo = *NVP2P_AT(nv_chunk, NVP2P_CHUNK_BO, void *);
	struct ttm_buffer_object *tbo;
	struct nvp2p_chunk *c;
	int ret;

	if (!nvbo || nd->prov_err)
		return;
	tbo = NVP2P_AT(nvbo, NVP2P_BO_TTM, struct ttm_buffer_object);
	c = kzalloc_obj(*c);
	if (!c)
		return;
	c->nv_chunk = nv_chunk;
	c->pgmap = pgmap;
	c->tbo = tbo;
	c->refused = -EAGAIN;

	/* Public fields confirm the verified layout on the live objects. */
	if (pgmap->type != MEMORY_DEVICE_PRIVATE || pgmap->owner != nd->owner ||
	    pgmap->nr_range != 1 || tbo->base.dev != nd->owner ||
	    tbo->base.size != range_len(&pgmap->range)) {
		pr_warn("%s: a dmem chunk does not look as nouveau_p2p expects: ignored\n",
			pci_name(nd->pdev));
		c->pgmap = NULL;	/* never matches a page */
		c->refused = -EINVAL;
		list_add_tail_rcu(&c->node, &nd->chunks);
		return;
	}

	if (!nd->prov) {
		struct hmm_p2p_provider_desc desc = {
			.name = nd->name,
			.owner = nd->owner,
			.pdev = nd->pdev,
			.alias = nvp2p_alias,
			.priv = nd,
		};
		struct hmm_p2p_provider *prov = hmm_p2p_register_provider(&desc);

		if (IS_ERR(prov)) {
			pr_err("%s: cannot register provider %s: %ld\n",
			       pci_name(nd->pdev), nd->name, PTR_ERR(prov));
			nd->prov_err = PTR_ERR(prov);
			kfree(c);
			return;
		}
		nd->prov = prov;
	}

	ret = nvp2p_chunk_window(nd, c);
	WRITE_ONCE(c->refused, ret);
	if (ret && !nvp2p_retry(ret))
		pr_info("%s: chunk at pfn %#lx: no P2P window (%d%s): its pages migrate as without hmm-p2p\n",
			pci_name(nd->pdev), PHYS_PFN(pgmap->range.start), ret,
			c->over_budget ? ", over the BAR1 budget: see bar1_percent" : "");
	list_add_tail_rcu(&c->node, &nd->chunks);

	ret = hmm_p2p_provider_add_pagemap(nd->prov, pgmap);
	if (ret)
		pr_warn("%s: chunk at pfn %#lx: cannot declare it to hmm_p2p: %d\n",
			pci_name(nd->pdev), PHYS_PFN(pgmap->range.start), ret);
	else
		c->declared = true;
}

static void nvp2p_scan(struct nvp2p_dev *nd)
{
	struct mutex *dmem_lock =
		NVP2P_AT(nd->dmem, NVP2P_DMEM_MUTEX, struct mutex);
	struct list_head *head =
		NVP2P_AT(nd->dmem, NVP2P_DMEM_CHUNKS, struct list_head);
	struct list_head *pos;
	struct nvp2p_chunk *c;
	int ret;

	/*
	 * Keep the GPU out of runtime suspend once it has device memory:
	 * nouveau unpins the chunks then. Taken before nouveau's lock, which
	 * its resume path takes.
	 */
	if (!nd->rpm && !list_empty_careful(head)) {
		if (pm_runtime_resume_and_get(&nd->pdev->dev) < 0)
			return;
		nd->rpm = true;
	}

	mutex_lock(dmem_lock);
	list_for_each(pos, head) {
		const void *nv_chunk = (const char *)pos - NVP2P_CHUNK_LIST;
		bool known = false;

		list_for_each_entry(c, &nd->chunks, node) {
			if (c->nv_chunk != nv_chunk)
				continue;
			known = true;
			/*
			 * Retry what may pass now, never what nouveau refused
			 * for want of BAR1 space: it evicts its user mappings
			 * from BAR1 on every such attempt.
			 */
			if (c->has_win || !c->pgmap ||
			    !(nvp2p_retry(c->refused) || c->over_budget))
				break;
			ret = nvp2p_chunk_window(nd, c);
			WRITE_ONCE(c->refused, ret);
			break;
		}
		if (!known)
			nvp2p_chunk_add(nd, nv_chunk);
	}
	mutex_unlock(dmem_lock);
}

static void nvp2p_scan_work(struct work_struct *work)
{
	struct nvp2p_dev *nd = container_of(to_delayed_work(work),
					    struct nvp2p_dev, scan);

	mutex_lock(&nd->lock);
	if (!nd->stopped) {
		nvp2p_scan(nd);
		schedule_delayed_work(&nd->scan,
				      msecs_to_jiffies(max(scan_ms, 10U)));
	}
	mutex_unlock(&nd->lock);
}

/* Withdraw everything for one device. The scan must be stopped. */
static void nvp2p_teardown(struct nvp2p_dev *nd)
{
	struct nvp2p_chunk *c, *tmp;

	mutex_lock(&nd->lock);
	if (nd->prov) {
		list_for_each_entry(c, &nd->chunks, node)
			if (c->declared)
				hmm_p2p_provider_remove_pagemap(nd->prov,
								c->pgmap);
		/* Waits for callers in flight: no alias lookup after this. */
		hmm_p2p_unregister_provider(nd->prov);
		nd->prov = NULL;
	}
	list_for_each_entry_safe(c, tmp, &nd->chunks, node) {
		/*
		 * The window goes only once no page of the chunk is left in
		 * VRAM (the helper migrates them to RAM through it): aliases
		 * handed out stay in NIC tables until then, and BAR1 is
		 * nouveau's to remap afterwards.
		 */
		if (c->has_win)
			hmm_p2p_bar_window_fini(&c->win);
		nvp2p_unmap_bar1(c);
		list_del(&c->node);
		kfree(c);
	}
	nd->bar1_used = 0;
	if (nd->rpm) {
		pm_runtime_put(&nd->pdev->dev);
		nd->rpm = false;
	}
	mutex_unlock(&nd->lock);
}

static void nvp2p_stop(struct nvp2p_dev *nd)
{
	mutex_lock(&nd->lock);
	nd->stopped = true;
	mutex_unlock(&nd->lock);
	cancel_delayed_work_sync(&nd->scan);
	nvp2p_teardown(nd);
}

static void nvp2p_start(struct nvp2p_dev *nd)
{
	mutex_lock(&nd->lock);
	nd->stopped = false;
	mutex_unlock(&nd->lock);
	schedule_delayed_work(&nd->scan, 0);
}

static bool nvp2p_is_nouveau(struct device *dev)
{
	/* A built-in nouveau has no owner module. */
	return dev->driver && !strcmp(dev->driver->name, "nouveau") &&
	       (!dev->driver->owner ||
		!strcmp(module_name(dev->driver->owner), "nouveau"));
}

/* A nouveau device was bound. Called with its device lock held. */
static void nvp2p_attach(struct pci_dev *pdev)
{
	void *drm = pci_get_drvdata(pdev);
	struct drm_device *owner;
	struct nvp2p_dev *nd;
	void *dmem;

	if (!drm || !nvp2p_is_nouveau(&pdev->dev))
		return;
	owner = *NVP2P_AT(drm, NVP2P_DRM_DEV, struct drm_device *);
	if (!owner || owner->dev != &pdev->dev || owner->dev_private != drm) {
		pr_warn("%s: nouveau's device does not look as nouveau_p2p expects: ignored\n",
			pci_name(pdev));
		return;
	}
	dmem = *NVP2P_AT(drm, NVP2P_DRM_DMEM, void *);
	if (!dmem) {
		pr_info("%s: idle: nouveau has no device memory on this GPU (it needs a Pascal or newer GPU)\n",
			pci_name(pdev));
		return;
	}

	mutex_lock(&nvp2p_mutex);
	list_for_each_entry(nd, &nvp2p_devs, node) {
		if (nd->pdev == pdev) {
			mutex_unlock(&nvp2p_mutex);
			return;
		}
	}
	if (nvp2p_exiting) {
		mutex_unlock(&nvp2p_mutex);
		return;
	}
	nd = kzalloc_obj(*nd);
	if (!nd) {
		mutex_unlock(&nvp2p_mutex);
		return;
	}
	nd->pdev = pci_dev_get(pdev);
	nd->drm = drm;
	nd->owner = owner;
	nd->dmem = dmem;
	mutex_init(&nd->lock);
	INIT_LIST_HEAD(&nd->chunks);
	INIT_DELAYED_WORK(&nd->scan, nvp2p_scan_work);
	snprintf(nd->name, sizeof(nd->name), "nouveau-%s", pci_name(pdev));
	nd->stopped = nvp2p_sleeping;
	list_add_tail(&nd->node, &nvp2p_devs);
	if (!nd->stopped)
		schedule_delayed_work(&nd->scan, 0);
	mutex_unlock(&nvp2p_mutex);
	pr_info("%s: nouveau device memory found: provider %s\n",
		pci_name(pdev), nd->name);
}

static void nvp2p_free(struct nvp2p_dev *nd)
{
	nvp2p_stop(nd);
	mutex_destroy(&nd->lock);
	pci_dev_put(nd->pdev);
	kfree(nd);
}

/*
 * The driver is about to unbind (nouveau frees its chunks after this), or
 * the module is going. Called with the device lock held, so that the two
 * never overlap: unbind waits until this is done.
 */
static void nvp2p_detach(struct pci_dev *pdev)
{
	struct nvp2p_dev *nd, *found = NULL;

	mutex_lock(&nvp2p_mutex);
	list_for_each_entry(nd, &nvp2p_devs, node) {
		if (nd->pdev == pdev) {
			found = nd;
			list_del(&nd->node);
			break;
		}
	}
	mutex_unlock(&nvp2p_mutex);
	if (found) {
		nvp2p_free(found);
		pr_info("%s: P2P windows released\n", pci_name(pdev));
	}
}

static int nvp2p_bus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct device *dev = data;

	if (!dev_is_pci(dev))
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_BOUND_DRIVER)
		nvp2p_attach(to_pci_dev(dev));
	else if (action == BUS_NOTIFY_UNBIND_DRIVER)
		nvp2p_detach(to_pci_dev(dev));
	return NOTIFY_DONE;
}

static struct notifier_block nvp2p_bus_nb = {
	.notifier_call = nvp2p_bus_notify,
};

/*
 * nouveau unpins its chunks for system sleep and may move them: withdraw
 * before it suspends, start again after it resumed.
 */
static int nvp2p_pm_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct nvp2p_dev *nd;
	bool sleep;

	switch (action) {
	case PM_HIBERNATION_PREPARE:
	case PM_SUSPEND_PREPARE:
	case PM_RESTORE_PREPARE:
		sleep = true;
		break;
	case PM_POST_HIBERNATION:
	case PM_POST_SUSPEND:
	case PM_POST_RESTORE:
		sleep = false;
		break;
	default:
		return NOTIFY_DONE;
	}
	mutex_lock(&nvp2p_mutex);
	nvp2p_sleeping = sleep;
	list_for_each_entry(nd, &nvp2p_devs, node) {
		if (sleep)
			nvp2p_stop(nd);
		else
			nvp2p_start(nd);
	}
	mutex_unlock(&nvp2p_mutex);
	return NOTIFY_OK;
}

static struct notifier_block nvp2p_pm_nb = {
	.notifier_call = nvp2p_pm_notify,
};

static int nvp2p_attach_bound(struct device *dev, void *data)
{
	device_lock(dev);
	nvp2p_attach(to_pci_dev(dev));
	device_unlock(dev);
	return 0;
}

/*
 * Why this module stays idle on this kernel, or NULL: the load line and the
 * state parameter both say it from here.
 */
#define NVP2P_IDLE_NO_SVM \
	"nouveau has no device memory in this kernel (CONFIG_DRM_NOUVEAU_SVM is not set)"
#define NVP2P_IDLE_UNVERIFIED \
	"nouveau's layout is verified for kernels " NVP2P_LAYOUT_VERIFIED_SERIES " only"
#define NVP2P_IDLE_CONFIG \
	"this kernel's configuration changes the type sizes nouveau's layout was verified with " \
	"(Debian's " NVP2P_LAYOUT_SERIES " configuration)"

static const char *nvp2p_idle_reason(void)
{
	if (!IS_ENABLED(CONFIG_DRM_NOUVEAU_SVM))
		return NVP2P_IDLE_NO_SVM;
	if (!NVP2P_LAYOUT_KNOWN)
		return NVP2P_IDLE_UNVERIFIED;
	if (!nvp2p_layout_matches())
		return NVP2P_IDLE_CONFIG;
	return NULL;
}

#define NVP2P_PROVIDING \
	"providing for nouveau device memory (layout verified for " \
	NVP2P_LAYOUT_SERIES ")"

/* "idle: <why>" or what the load line says when it provides. */
static int state_get(char *buf, const struct kernel_param *kp)
{
	const char *why = nvp2p_idle_reason();

	if (why)
		return sysfs_emit(buf, "idle: %s\n", why);
	return sysfs_emit(buf, "%s\n", NVP2P_PROVIDING);
}

static const struct kernel_param_ops state_ops = {
	.set = hmm_p2p_param_set_readonly,
	.get = state_get,
};

module_param_cb(state, &state_ops, NULL, 0444);
MODULE_PARM_DESC(state,
		 "Read-only: \"idle: <why>\" or \"providing ...\", as the load line says it");

static int __init nouveau_p2p_init(void)
{
	const char *why = nvp2p_idle_reason();
	int ret;

	if (why) {
		pr_info("version %s idle on %s: %s\n", HMM_P2P_VERSION,
			HMM_P2P_KERNELRELEASE, why);
		return 0;
	}

	ret = register_pm_notifier(&nvp2p_pm_nb);
	if (ret)
		return ret;
	ret = bus_register_notifier(&pci_bus_type, &nvp2p_bus_nb);
	if (ret) {
		unregister_pm_notifier(&nvp2p_pm_nb);
		return ret;
	}
	nvp2p_active = true;
	bus_for_each_dev(&pci_bus_type, NULL, NULL, nvp2p_attach_bound);
	pr_info("version %s on %s: %s\n", HMM_P2P_VERSION,
		HMM_P2P_KERNELRELEASE, NVP2P_PROVIDING);
	return 0;
}

static void __exit nouveau_p2p_exit(void)
{
	struct nvp2p_dev *nd;
	struct pci_dev *pdev;

	if (!nvp2p_active)
		return;
	unregister_pm_notifier(&nvp2p_pm_nb);
	mutex_lock(&nvp2p_mutex);
	nvp2p_exiting = true;
	mutex_unlock(&nvp2p_mutex);
	/*
	 * Device by device under its device lock, with the bus notifier
	 * still in place: a concurrent unbind either waits for us or has
	 * already detached the device.
	 */
	for (;;) {
		mutex_lock(&nvp2p_mutex);
		nd = list_first_entry_or_null(&nvp2p_devs, struct nvp2p_dev,
					      node);
		pdev = nd ? pci_dev_get(nd->pdev) : NULL;
		mutex_unlock(&nvp2p_mutex);
		if (!pdev)
			break;
		device_lock(&pdev->dev);
		nvp2p_detach(pdev);
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
	bus_unregister_notifier(&pci_bus_type, &nvp2p_bus_nb);
}

module_init(nouveau_p2p_init);
module_exit(nouveau_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p provider for nouveau device memory");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
