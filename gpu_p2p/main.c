// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpu_p2p: the hmm-p2p provider for GPU drivers that know nothing of
 * hmm-p2p. It finds device-private pagemaps the way the kernel exposes
 * them and decides, by a rule per GPU driver, which linear BAR window
 * aliases each one:
 *
 *   1. every scan_ms, walk the iomem resources of type
 *      IORES_DESC_DEVICE_PRIVATE_MEMORY (walk_iomem_res_desc()) and take the
 *      dev_pagemap at the start of each (get_dev_pagemap());
 *   2. find the PCI device the pagemap belongs to:
 *        - a window the administrator described (windows file, root only),
 *        - or the built-in rule of the driver bound to a PCI device
 *          (amdgpu: BAR 0 from offset 0; xe: BAR 2 from its VRAM region's
 *          io_start; see gpu_layout.h for how the pagemap is matched to
 *          its device);
 *   3. register that window as P2PDMA memory with the hmm-p2p BAR-window
 *      helper and the pagemap as a provider of hmm-p2p.
 *
 * A pagemap goes away only after all its pages were freed; a device's
 * windows go away before its driver unbinds (bus notifier) and when a scan
 * no longer finds the pagemap. Before a window goes, the BAR-window helper
 * unmaps every page it covers from every process and maps it back
 * (hmm_p2p_bar_window_fini_in_place()): every mirror holding an alias is
 * invalidated, so no alias outlives the window behind it (hmm_p2p.h), and
 * the pages stay in the GPU, for its driver to move with its own means.
 *
 * Pages beyond what the BAR shows (a small BAR) have no alias and fall back
 * to migration page by page (fallback_refused). docs/providers.md has the
 * rules, what each one relies on and how it is verified.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/ioport.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"
#include "gpu_layout.h"

#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
#include <drm/drm_device.h>
#include <drm/drm_pagemap.h>
#include <drm/drm_pagemap_util.h>
#endif

static unsigned int scan_ms = 1000;
module_param(scan_ms, uint, 0444);
MODULE_PARM_DESC(scan_ms,
		 "how often to look for new device-private pagemaps, in ms (default 1000)");

static char *driver_rules;
module_param(driver_rules, charp, 0444);
MODULE_PARM_DESC(driver_rules,
		 "apply a built-in rule to a PCI driver of another name: driver=rule[@bar][,...] (rule: amdgpu or xe; @bar: the window is in that BAR instead of the rule's)");

#define GPUP2P_MAX_REGIONS 64
#define GPUP2P_MAX_WINDOWS 16

/* For kernels without kzalloc_obj(). */
#ifndef kzalloc_obj
#define kzalloc_obj(obj) kzalloc(sizeof(obj), GFP_KERNEL)
#endif

/* ---- rules ------------------------------------------------------------------ */

/*
 * How a driver's device-private pagemap maps onto its BAR. @match says
 * whether @pgmap (a live reference held) belongs to @pdev (bound to the
 * driver, device lock held), its callbacks included; @place says where in
 * BAR @bar the pagemap's first page is and how many bytes from there the
 * BAR shows of it (NULL: offset 0, to the BAR's end). From there the
 * pagemap is the BAR page for page.
 */
struct gpup2p_rule {
	const char *name;
	bool (*match)(struct pci_dev *pdev, struct dev_pagemap *pgmap);
	int (*place)(struct pci_dev *pdev, struct dev_pagemap *pgmap, int bar,
		     u64 *bar_offset, u64 *limit);
	int bar;
};

/* Are @ops in the module of the driver bound to @pdev? */
static bool gpup2p_ops_in_driver(struct pci_dev *pdev, const void *ops)
{
	struct device_driver *drv = pdev->dev.driver;

	return drv && drv->owner &&
	       within_module((unsigned long)ops, drv->owner);
}

/*
 * amdgpu: PCI drvdata is &adev->ddev, the pagemap is &adev->kfd.pgmap. The
 * distance between the two is verified against amdgpu's sources
 * (gpu_layout.h); it is only ever compared with the address of the pagemap,
 * never dereferenced, so a wrong value matches nothing. The callbacks must
 * be the driver's (a built-in driver has no module to tell them apart: the
 * comparison alone decides).
 */
static bool gpup2p_amdgpu_match(struct pci_dev *pdev,
				struct dev_pagemap *pgmap)
{
#ifdef GPUP2P_AMDGPU_DDEV_TO_PGMAP
	char *ddev = pci_get_drvdata(pdev);
	struct device_driver *drv = pdev->dev.driver;

	return ddev && (void *)(ddev + GPUP2P_AMDGPU_DDEV_TO_PGMAP) ==
			       (void *)pgmap &&
	       (!drv->owner || gpup2p_ops_in_driver(pdev, pgmap->ops));
#else
	return false;
#endif
}

#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
/* drm_pagemap's callbacks, if the module that has them is there. */
static const struct dev_pagemap_ops *gpup2p_drm_pagemap_ops(void)
{
	const struct dev_pagemap_ops *(*get)(void);
	const struct dev_pagemap_ops *ops;

	get = symbol_get(drm_pagemap_pagemap_ops_get);
	if (!get)
		return NULL;
	ops = get();
	symbol_put(drm_pagemap_pagemap_ops_get);
	return ops;
}

/* Read @len bytes at @off from @base; false where nothing is mapped. */
static bool gpup2p_read(const void *base, size_t off, void *to, size_t len)
{
	return !copy_from_kernel_nofault(to, (const char *)base + off, len);
}

/* A copy of the struct drm_pagemap that follows @pgmap in xe_pagemap. */
static bool gpup2p_xe_dpagemap(struct dev_pagemap *pgmap,
			       struct drm_pagemap *dp)
{
	return gpup2p_read(pgmap, GPUP2P_XE_PGMAP_TO_DPAGEMAP, dp, sizeof(*dp));
}
#endif

/*
 * xe: the pagemap's callbacks are drm_pagemap's (or, for a driver laid out
 * as xe and named in driver_rules, that driver's), the struct drm_pagemap
 * that follows the pagemap in xe's struct xe_pagemap (gpu_layout.h) points
 * back at it, has its callbacks in the driver's module and names the
 * device's drm_device (gpup2p_xe_place() checks the rest). Nothing is read
 * beside the pagemap before its callbacks said whose it is; a layout that
 * changed matches nothing.
 */
static bool gpup2p_xe_match(struct pci_dev *pdev, struct dev_pagemap *pgmap)
{
#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	struct drm_pagemap dp;
	struct device *dev;

	if (!GPUP2P_XE_LAYOUT_HOLDS())
		return false;
	if (pgmap->ops != gpup2p_drm_pagemap_ops() &&
	    !gpup2p_ops_in_driver(pdev, pgmap->ops))
		return false;
	return gpup2p_xe_dpagemap(pgmap, &dp) && dp.pagemap == pgmap &&
	       gpup2p_ops_in_driver(pdev, dp.ops) && dp.drm &&
	       gpup2p_read(dp.drm, offsetof(struct drm_device, dev), &dev,
			   sizeof(dev)) &&
	       dev == &pdev->dev;
#else
	return false;
#endif
}

/*
 * xe: the pagemap's first page is at the VRAM region's io_start (BAR 2
 * plus the tile's offset) and the BAR shows io_size bytes of it
 * (xe_page_to_pcie()), once the xe_pagemap's hpa_base is the pagemap's
 * start and the region is the one of the drm_pagemap's xe device. xe sets
 * hpa_base only after the pagemap is mapped (and so visible): 0 means "not
 * yet", -EAGAIN, looked at again by the next scan. Only after
 * gpup2p_xe_match().
 */
static int gpup2p_xe_place(struct pci_dev *pdev, struct dev_pagemap *pgmap,
			   int bar, u64 *bar_offset, u64 *limit)
{
#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	resource_size_t start = pci_resource_start(pdev, bar);
	resource_size_t io_start, io_size, hpa_base;
	struct drm_pagemap dp;
	const char *xe_drm;
	const void *vr, *xe;

	if (!gpup2p_xe_dpagemap(pgmap, &dp))
		return -ENODEV;
	xe_drm = (const char *)dp.drm;
	if (!gpup2p_read(pgmap, GPUP2P_XE_PGMAP_TO_HPA_BASE, &hpa_base,
			 sizeof(hpa_base)))
		return -ENODEV;
	if (!hpa_base)
		return -EAGAIN;
	if (hpa_base != pgmap->range.start)
		return -ENODEV;
	if (!gpup2p_read(pgmap, GPUP2P_XE_PGMAP_TO_VR, &vr, sizeof(vr)) ||
	    !vr || !gpup2p_read(vr, GPUP2P_XE_VR_XE, &xe, sizeof(xe)) ||
	    xe != xe_drm - GPUP2P_XE_XE_DRM ||
	    !gpup2p_read(vr, GPUP2P_XE_VR_IO_START, &io_start,
			 sizeof(io_start)) ||
	    !gpup2p_read(vr, GPUP2P_XE_VR_IO_SIZE, &io_size, sizeof(io_size)))
		return -ENODEV;
	/*
	 * xe_vram.c: the region lies in the BAR, and shows at most its
	 * usable size, which the pagemap covers. A value outside that was
	 * not read where xe keeps it: no window.
	 */
	if (io_start < start || !io_size ||
	    io_start - start >= pci_resource_len(pdev, bar) ||
	    io_size > pci_resource_len(pdev, bar) - (io_start - start) ||
	    io_size > range_len(&pgmap->range))
		return -ERANGE;
	*bar_offset = io_start - start;
	*limit = io_size;
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

static const struct gpup2p_rule gpup2p_rules[] = {
	/* amdgpu: VRAM offset 0 is BAR 0 offset 0 (gmc.aper_base). */
	{ .name = "amdgpu", .match = gpup2p_amdgpu_match, .bar = 0 },
	/* xe: the LMEM BAR, at the VRAM region's offset. */
	{ .name = "xe", .match = gpup2p_xe_match, .place = gpup2p_xe_place,
	  .bar = 2 },
};

/* "driver=rule[@bar]" pairs from driver_rules, parsed once at load. */
struct gpup2p_alias {
	char driver[32];
	const struct gpup2p_rule *rule;
	int bar;		/* -1: the rule's */
};

static struct gpup2p_alias gpup2p_aliases[8];
static unsigned int gpup2p_nr_aliases;

static const struct gpup2p_rule *gpup2p_rule_named(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gpup2p_rules); i++)
		if (!strcmp(gpup2p_rules[i].name, name))
			return &gpup2p_rules[i];
	return NULL;
}

static int gpup2p_parse_driver_rules(void)
{
	char *buf, *cur, *pair, *at;
	int ret = 0;

	if (!driver_rules || !*driver_rules)
		return 0;
	buf = kstrdup(driver_rules, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((pair = strsep(&cur, ","))) {
		char *rule = strchr(pair, '=');
		struct gpup2p_alias *a;

		if (!rule || rule == pair ||
		    gpup2p_nr_aliases == ARRAY_SIZE(gpup2p_aliases) ||
		    strlen(pair) - strlen(rule) >= sizeof(a->driver)) {
			pr_err("driver_rules: cannot use \"%s\" (driver=rule, at most %zu pairs)\n",
			       pair, ARRAY_SIZE(gpup2p_aliases));
			ret = -EINVAL;
			break;
		}
		*rule++ = '\0';
		a = &gpup2p_aliases[gpup2p_nr_aliases];
		a->bar = -1;
		at = strchr(rule, '@');
		if (at) {
			*at++ = '\0';
			if (kstrtoint(at, 10, &a->bar) || a->bar < 0 ||
			    a->bar >= PCI_STD_NUM_BARS) {
				pr_err("driver_rules: \"%s\" is not a BAR number (0-%d)\n",
				       at, PCI_STD_NUM_BARS - 1);
				ret = -EINVAL;
				break;
			}
		}
		a->rule = gpup2p_rule_named(rule);
		if (!a->rule) {
			pr_err("driver_rules: no rule named \"%s\"\n", rule);
			ret = -EINVAL;
			break;
		}
		strscpy(a->driver, pair, sizeof(a->driver));
		gpup2p_nr_aliases++;
	}
	kfree(buf);
	return ret;
}

/*
 * The rule for the driver bound to @pdev, or NULL; *@bar is the BAR of its
 * window. Device lock held.
 */
static const struct gpup2p_rule *gpup2p_rule_of(struct pci_dev *pdev,
						int *bar)
{
	const char *drv = pdev->dev.driver ? pdev->dev.driver->name : NULL;
	const struct gpup2p_rule *rule;
	unsigned int i;

	if (!drv)
		return NULL;
	for (i = 0; i < gpup2p_nr_aliases; i++) {
		struct gpup2p_alias *a = &gpup2p_aliases[i];

		if (!strcmp(a->driver, drv)) {
			*bar = a->bar >= 0 ? a->bar : a->rule->bar;
			return a->rule;
		}
	}
	rule = gpup2p_rule_named(drv);
	if (rule)
		*bar = rule->bar;
	return rule;
}

/* ---- administrator windows ---------------------------------------------------- */

/*
 * A window described through the windows file: the pagemap that starts at
 * @pgmap_start is BAR @bar of @pdev from @bar_offset on, page for page.
 */
struct gpup2p_admin_window {
	struct pci_dev *pdev;		/* reference held */
	int bar;
	u64 bar_offset;
	phys_addr_t pgmap_start;
};

static struct gpup2p_admin_window gpup2p_admin[GPUP2P_MAX_WINDOWS];
static unsigned int gpup2p_nr_admin;

/* ---- discovered pagemaps -------------------------------------------------------- */

struct gpup2p_map {
	struct list_head node;		/* gpup2p_maps */
	/*
	 * A live reference for as long as the window exists: the pagemap and
	 * its pages cannot go while we may evict through them. The driver's
	 * memunmap_pages() waits for it: the bus notifier drops it before an
	 * unbind, the scan once the reference is dying (a pagemap unmapped at
	 * run time, as xe does).
	 */
	struct dev_pagemap *pgmap;
	phys_addr_t pgmap_start;
	struct pci_dev *pdev;		/* reference held */
	const char *how;		/* rule name or "window" */
	struct hmm_p2p_bar_window win;
	struct hmm_p2p_provider *prov;
	char name[40];
};

static LIST_HEAD(gpup2p_maps);
/*
 * Lock order: gpup2p_scan_lock, then a device lock, then gpup2p_mutex.
 * gpup2p_mutex is only ever held briefly (lists, admin windows, refusals):
 * the bus notifier takes it for every PCI device that unbinds. Windows are
 * set up and withdrawn under their device's lock, outside it.
 */
static DEFINE_MUTEX(gpup2p_scan_lock);	/* one scan (or windows write) at a time */
static DEFINE_MUTEX(gpup2p_mutex);	/* maps, admin windows, refusals */
static bool gpup2p_exiting;
/* A driver bound or a window went: refused pagemaps are looked at again. */
static atomic_t gpup2p_refusals_stale = ATOMIC_INIT(0);
static bool gpup2p_said_idle;	/* the scan found no region last time */
/* Why the module is idle, said once by the scan and by the state parameter. */
#define GPUP2P_IDLE_REASON \
	"no device-private memory yet (amdgpu with KFD SVM and xe with SVM create it when they bind)"
static struct delayed_work gpup2p_scan_work;

/*
 * Pagemaps already refused, so that a refusal is logged once, not at every
 * scan. Forgotten when the pagemap disappears or something changes that
 * may make it acceptable (a bind, a new window).
 */
static phys_addr_t gpup2p_refused[GPUP2P_MAX_REGIONS];
static unsigned int gpup2p_nr_refused;

static bool gpup2p_was_refused(phys_addr_t start)
{
	unsigned int i;

	for (i = 0; i < gpup2p_nr_refused; i++)
		if (gpup2p_refused[i] == start)
			return true;
	return false;
}

static void gpup2p_note_refused(phys_addr_t start)
{
	if (!gpup2p_was_refused(start) &&
	    gpup2p_nr_refused < ARRAY_SIZE(gpup2p_refused))
		gpup2p_refused[gpup2p_nr_refused++] = start;
}

static struct gpup2p_map *gpup2p_map_at(phys_addr_t start)
{
	struct gpup2p_map *m;

	list_for_each_entry(m, &gpup2p_maps, node)
		if (m->pgmap_start == start)
			return m;
	return NULL;
}

/* The map of another pagemap of @pdev, if it has one. gpup2p_mutex held. */
static struct gpup2p_map *gpup2p_map_of(const struct pci_dev *pdev,
					phys_addr_t start)
{
	struct gpup2p_map *m;

	list_for_each_entry(m, &gpup2p_maps, node)
		if (m->pdev == pdev && m->pgmap_start != start)
			return m;
	return NULL;
}

/*
 * Withdraw the provider, give the window back (every alias it handed out
 * invalidated, through pages our reference keeps; the pages stay in the
 * GPU), then let the pagemap go. Unlinked already; the device lock of
 * m->pdev held (its driver stays bound meanwhile), gpup2p_mutex not held.
 */
static void gpup2p_map_free(struct gpup2p_map *m)
{
	hmm_p2p_unregister_provider(m->prov);
	hmm_p2p_bar_window_fini_in_place(&m->win);
	put_dev_pagemap(m->pgmap);
	pr_info("%s: P2P window of the pagemap at %pa released\n",
		pci_name(m->pdev), &m->pgmap_start);
	pci_dev_put(m->pdev);
	kfree(m);
	/* What this window was in the way of may be accepted now. */
	atomic_set(&gpup2p_refusals_stale, 1);
}

/*
 * Set up the window and the provider for @pgmap, found to be BAR @bar of
 * @pdev from @bar_offset on. The window is what the BAR shows of the
 * pagemap, in whole memory subsections; the rest of the pagemap has no
 * alias. Device lock of @pdev and gpup2p_scan_lock held; the map is
 * returned, not listed yet.
 */
static struct gpup2p_map *gpup2p_map_create(struct dev_pagemap *pgmap,
					    struct pci_dev *pdev,
					    const char *how, int bar,
					    u64 bar_offset, u64 limit)
{
	u64 pgmap_len = range_len(&pgmap->range);
	u64 bar_len = pci_resource_len(pdev, bar);
	struct hmm_p2p_provider_desc desc = { };
	struct gpup2p_map *m;
	u64 size;
	int ret;

	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    bar_offset >= bar_len) {
		pr_err("%s: BAR%d has no memory at offset %#llx: pagemap at %#llx left to migration\n",
		       pci_name(pdev), bar, bar_offset,
		       (u64)pgmap->range.start);
		return ERR_PTR(-EINVAL);
	}
	size = ALIGN_DOWN(min3(pgmap_len, bar_len - bar_offset, limit),
			  SUBSECTION_SIZE);
	if (!size) {
		pr_err("%s: BAR%d shows less than %lu bytes of the pagemap at %#llx: left to migration\n",
		       pci_name(pdev), bar, SUBSECTION_SIZE,
		       (u64)pgmap->range.start);
		return ERR_PTR(-ENOSPC);
	}
	m = kzalloc_obj(*m);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->pgmap = pgmap;
	m->pgmap_start = pgmap->range.start;
	m->how = how;
	snprintf(m->name, sizeof(m->name), "gpu-%s", pci_name(pdev));

	ret = hmm_p2p_bar_window_init(&m->win, pdev, bar, bar_offset, size);
	if (ret)
		goto err_free;
	ret = hmm_p2p_bar_window_attach(&m->win, pgmap);
	if (ret)
		goto err_window;
	desc.name = m->name;
	desc.owner = pgmap->owner;
	desc.pdev = pdev;
	desc.alias = hmm_p2p_bar_window_alias;
	desc.priv = &m->win;
	m->prov = hmm_p2p_register_provider(&desc);
	if (IS_ERR(m->prov)) {
		ret = PTR_ERR(m->prov);
		goto err_window;
	}
	ret = hmm_p2p_provider_add_pagemap(m->prov, pgmap);
	if (ret)
		goto err_provider;
	m->pdev = pci_dev_get(pdev);
	pr_info("%s: provider %s (%s): pagemap %#llx-%#llx is BAR%d %#llx-%#llx (%llu of %llu MiB aliased)\n",
		pci_name(pdev), m->name, how, (u64)pgmap->range.start,
		(u64)pgmap->range.end, bar, bar_offset, bar_offset + size - 1,
		size >> 20, pgmap_len >> 20);
	return m;

err_provider:
	hmm_p2p_unregister_provider(m->prov);
err_window:
	hmm_p2p_bar_window_fini_in_place(&m->win);
err_free:
	kfree(m);
	pr_err("%s: cannot provide for the pagemap at %#llx (%s): %d, its pages migrate\n",
	       pci_name(pdev), (u64)pgmap->range.start, how, ret);
	return ERR_PTR(ret);
}

/* ---- matching a pagemap to its device ------------------------------------------ */

/*
 * What the scan knows of a pagemap between two looks at it. The pointers
 * are identities only: the scan holds no reference while it takes device
 * locks (an unbinding driver holds its device lock while memunmap_pages()
 * waits for every pagemap reference).
 */
struct gpup2p_match {
	phys_addr_t start;
	const void *pgmap;
	const void *ops;
	struct pci_dev *pdev;		/* reference held */
	const struct gpup2p_rule *rule;	/* NULL: an administrator's window */
	int bar;
	u64 bar_offset;
	u64 limit;			/* bytes the BAR shows from there */
	unsigned int candidates;	/* devices whose driver has a rule */
	unsigned int busy;		/* devices whose lock was taken: look again */
};

/*
 * Is @pgmap, referenced now, the very pagemap the scan identified? A freed
 * pagemap's memory may be reused by another: compare what identified it.
 */
static bool gpup2p_same_pagemap(const struct dev_pagemap *pgmap,
				const struct gpup2p_match *mt)
{
	return pgmap && pgmap == mt->pgmap && pgmap->ops == mt->ops &&
	       pgmap->type == MEMORY_DEVICE_PRIVATE &&
	       pgmap->range.start == mt->start;
}

/*
 * Does @mt's pagemap belong to @pdev by @rule, and where in the BAR is it?
 * A live reference is held for the look (a rule may read beside the
 * pagemap). Device lock held.
 */
static bool gpup2p_rule_matches(struct pci_dev *pdev,
				const struct gpup2p_rule *rule,
				struct gpup2p_match *mt)
{
	u64 offset = 0, limit = U64_MAX;
	struct dev_pagemap *pgmap;
	bool hit;
	int bar, ret = 0;

	if (!rule || rule != gpup2p_rule_of(pdev, &bar) || bar != mt->bar)
		return false;
	pgmap = hmm_p2p_get_dev_pagemap(PHYS_PFN(mt->start));
	hit = gpup2p_same_pagemap(pgmap, mt) && rule->match(pdev, pgmap);
	if (hit && rule->place)
		ret = rule->place(pdev, pgmap, bar, &offset, &limit);
	if (pgmap)
		put_dev_pagemap(pgmap);
	/* The driver is still setting the pagemap up: the next scan looks. */
	if (ret == -EAGAIN)
		mt->busy++;
	hit = hit && !ret;
	if (hit) {
		mt->bar_offset = offset;
		mt->limit = limit;
	}
	return hit;
}

static int gpup2p_match_rule(struct device *dev, void *data)
{
	struct gpup2p_match *mt = data;
	struct pci_dev *pdev = to_pci_dev(dev);
	const struct gpup2p_rule *rule;
	bool hit = false;

	/*
	 * Never wait for a device here: its lock may be held by an unbind
	 * that waits for a pagemap reference only a later sweep drops.
	 */
	if (!device_trylock(dev)) {
		mt->busy++;
		return 0;
	}
	rule = gpup2p_rule_of(pdev, &mt->bar);
	if (rule) {
		mt->candidates++;
		hit = gpup2p_rule_matches(pdev, rule, mt);
	}
	device_unlock(dev);
	if (!hit)
		return 0;
	mt->pdev = pci_dev_get(pdev);
	mt->rule = rule;
	return 1;
}

/* The administrator's window for the pagemap at @start. gpup2p_mutex held. */
static struct gpup2p_admin_window *gpup2p_admin_at(phys_addr_t start)
{
	unsigned int i;

	for (i = 0; i < gpup2p_nr_admin; i++)
		if (gpup2p_admin[i].pgmap_start == start)
			return &gpup2p_admin[i];
	return NULL;
}

/* An administrator's window for @mt's pagemap? gpup2p_mutex held. */
static bool gpup2p_match_admin(struct gpup2p_match *mt)
{
	struct gpup2p_admin_window *w = gpup2p_admin_at(mt->start);

	if (!w)
		return false;
	mt->pdev = pci_dev_get(w->pdev);
	mt->bar = w->bar;
	mt->bar_offset = w->bar_offset;
	mt->limit = U64_MAX;
	return true;
}

/* Is @mt's window still the administrator's? gpup2p_mutex held. */
static bool gpup2p_admin_still(const struct gpup2p_match *mt)
{
	struct gpup2p_admin_window *w = gpup2p_admin_at(mt->start);

	return w && w->pdev == mt->pdev && w->bar == mt->bar &&
	       w->bar_offset == mt->bar_offset;
}

/*
 * Identify the pagemap at @mt->start: a device-private pagemap starting
 * there, with a live reference only while we read it.
 */
static bool gpup2p_identify(struct gpup2p_match *mt)
{
	struct dev_pagemap *pgmap;
	bool ok;

	pgmap = hmm_p2p_get_dev_pagemap(PHYS_PFN(mt->start));
	if (!pgmap)
		return false;		/* not remapped yet */
	ok = pgmap->type == MEMORY_DEVICE_PRIVATE &&
	     pgmap->range.start == mt->start;
	mt->pgmap = pgmap;
	mt->ops = pgmap->ops;
	put_dev_pagemap(pgmap);
	return ok;
}

/* Log why a pagemap gets no window, once. gpup2p_mutex held. */
static void gpup2p_refuse(const struct gpup2p_match *mt, const char *why)
{
	if (gpup2p_was_refused(mt->start))
		return;
	pr_info("pagemap at %pa: %s: its pages migrate\n", &mt->start, why);
	gpup2p_note_refused(mt->start);
}

/*
 * Under the device lock the driver cannot unbind, so a pagemap that is its
 * own (devm-managed, as amdgpu's) stays while we set up the window. Look
 * again: still bound, still the same pagemap, still matching, the
 * administrator's window still there. The device lock is only tried (see
 * gpup2p_match_rule()): a busy device is looked at again by the next scan.
 */
static void gpup2p_provide(struct gpup2p_match *mt)
{
	struct pci_dev *pdev = mt->pdev;
	struct gpup2p_map *m = NULL, *other;
	struct dev_pagemap *pgmap;
	bool same, ours = false, go = false;

	if (!device_trylock(&pdev->dev))
		return;
	pgmap = hmm_p2p_get_dev_pagemap(PHYS_PFN(mt->start));
	/* Gone, replaced or rebound meanwhile: the next scan looks again. */
	same = gpup2p_same_pagemap(pgmap, mt) &&
	       (!mt->rule || gpup2p_rule_matches(pdev, mt->rule, mt));
	/* A window's pagemap must have its callbacks in the driver's module. */
	ours = same && (mt->rule || gpup2p_ops_in_driver(pdev, mt->ops));
	mutex_lock(&gpup2p_mutex);
	other = ours ? gpup2p_map_of(pdev, mt->start) : NULL;
	if (same && !ours)
		gpup2p_refuse(mt, "not a pagemap of the driver bound to its device");
	else if (other)
		/*
		 * One provider per device (its name is the device's): a
		 * second pagemap (a second xe tile, or xe's new pagemap
		 * while the old one is still going) is refused before any
		 * window is set up for it, until the other map goes.
		 */
		gpup2p_refuse(mt, "its device is served through another pagemap (one per device)");
	else if (ours && !gpup2p_exiting && !gpup2p_map_at(mt->start) &&
		 (mt->rule || gpup2p_admin_still(mt)))
		go = true;
	mutex_unlock(&gpup2p_mutex);
	if (go) {
		m = gpup2p_map_create(pgmap, pdev,
				      mt->rule ? mt->rule->name : "window",
				      mt->bar, mt->bar_offset, mt->limit);
		if (IS_ERR(m)) {
			/*
			 * Refused until something changes: a driver binds,
			 * or a window goes (an older pagemap's window or
			 * provider may have been in the way, as when xe
			 * makes a new pagemap before the old one is gone).
			 */
			mutex_lock(&gpup2p_mutex);
			gpup2p_note_refused(mt->start);
			mutex_unlock(&gpup2p_mutex);
			m = NULL;
		} else {
			pgmap = NULL;	/* the map keeps the reference */
			mutex_lock(&gpup2p_mutex);
			list_add_tail(&m->node, &gpup2p_maps);
			mutex_unlock(&gpup2p_mutex);
		}
	}
	if (pgmap)
		put_dev_pagemap(pgmap);
	device_unlock(&pdev->dev);
}

/* A device-private region the scan found: provide for it if we can. */
static void gpup2p_try_region(phys_addr_t start)
{
	struct gpup2p_match mt = { .start = start };
	bool skip, admin = false;

	mutex_lock(&gpup2p_mutex);
	skip = gpup2p_exiting || gpup2p_map_at(start) ||
	       gpup2p_was_refused(start);
	mutex_unlock(&gpup2p_mutex);
	if (skip || !gpup2p_identify(&mt))
		return;

	mutex_lock(&gpup2p_mutex);
	admin = gpup2p_match_admin(&mt);
	mutex_unlock(&gpup2p_mutex);
	if (!admin &&
	    !bus_for_each_dev(&pci_bus_type, NULL, &mt, gpup2p_match_rule)) {
		char why[96];

		if (mt.busy)
			return;		/* a device was busy: look again */
		snprintf(why, sizeof(why),
			 "no window or rule names its device (%u device(s) bound to a driver with a rule)",
			 mt.candidates);
		mutex_lock(&gpup2p_mutex);
		gpup2p_refuse(&mt, why);
		mutex_unlock(&gpup2p_mutex);
		return;
	}
	gpup2p_provide(&mt);
	pci_dev_put(mt.pdev);
}

/* ---- the scan -------------------------------------------------------------------- */

struct gpup2p_regions {
	phys_addr_t start[GPUP2P_MAX_REGIONS];
	unsigned int n;
	bool overflow;
};

static int gpup2p_collect_region(struct resource *res, void *arg)
{
	struct gpup2p_regions *r = arg;

	if (r->n == ARRAY_SIZE(r->start)) {
		r->overflow = true;
		return 1;
	}
	r->start[r->n++] = res->start;
	return 0;
}

static bool gpup2p_region_listed(const struct gpup2p_regions *r,
				 phys_addr_t start)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->start[i] == start)
			return true;
	return false;
}

/*
 * Are @m's pagemap, and the driver's P2PDMA memory its window may use,
 * still alive? Their driver unmapping one kills its reference first
 * (memunmap_pages()), then waits for ours: the window goes now.
 */
static bool gpup2p_map_current(struct gpup2p_map *m)
{
	return !percpu_ref_is_dying(&m->pgmap->ref) &&
	       !hmm_p2p_bar_window_doomed(&m->win);
}

/*
 * Does @m's window go? Its pagemap is no longer listed (unless the list
 * overflowed: then only a dying reference counts), or is being unmapped.
 */
static bool gpup2p_map_stale(struct gpup2p_map *m,
			     const struct gpup2p_regions *r)
{
	if (!gpup2p_map_current(m))
		return true;
	return !r->overflow && !gpup2p_region_listed(r, m->pgmap_start);
}

/*
 * Withdraw the windows whose pagemap is gone. Device lock first (only
 * tried: a busy device is swept by the next scan, or its unbind withdraws
 * its windows), then gpup2p_mutex to unlink; the window goes without it.
 */
static void gpup2p_sweep(const struct gpup2p_regions *r)
{
	struct {
		struct pci_dev *pdev;
		phys_addr_t start;
	} *seen;
	struct gpup2p_map *m;
	unsigned int i, n = 0;

	seen = kcalloc(GPUP2P_MAX_REGIONS, sizeof(*seen), GFP_KERNEL);
	if (!seen)
		return;
	mutex_lock(&gpup2p_mutex);
	list_for_each_entry(m, &gpup2p_maps, node) {
		if (n == GPUP2P_MAX_REGIONS)
			break;
		seen[n].pdev = pci_dev_get(m->pdev);
		seen[n++].start = m->pgmap_start;
	}
	mutex_unlock(&gpup2p_mutex);

	for (i = 0; i < n; i++) {
		if (device_trylock(&seen[i].pdev->dev)) {
			mutex_lock(&gpup2p_mutex);
			m = gpup2p_map_at(seen[i].start);
			if (m && m->pdev == seen[i].pdev &&
			    gpup2p_map_stale(m, r))
				list_del(&m->node);
			else
				m = NULL;
			mutex_unlock(&gpup2p_mutex);
			if (m)
				gpup2p_map_free(m);
			device_unlock(&seen[i].pdev->dev);
		}
		pci_dev_put(seen[i].pdev);
	}
	kfree(seen);
}

static void gpup2p_scan(void)
{
	struct gpup2p_regions *r;
	unsigned int i;

	r = kzalloc_obj(*r);
	if (!r)
		return;
	walk_iomem_res_desc(IORES_DESC_DEVICE_PRIVATE_MEMORY, IORESOURCE_MEM,
			    0, U64_MAX, r, gpup2p_collect_region);

	mutex_lock(&gpup2p_mutex);
	/* A driver bound: it may make a refused pagemap acceptable. */
	if (atomic_xchg(&gpup2p_refusals_stale, 0))
		gpup2p_nr_refused = 0;
	/* Forget refusals of regions that are gone. */
	for (i = 0; i < gpup2p_nr_refused;) {
		if (gpup2p_region_listed(r, gpup2p_refused[i]))
			i++;
		else
			gpup2p_refused[i] = gpup2p_refused[--gpup2p_nr_refused];
	}
	mutex_unlock(&gpup2p_mutex);

	gpup2p_sweep(r);
	for (i = 0; i < r->n; i++)
		gpup2p_try_region(r->start[i]);
	/* One line for a machine without device memory, until some appears. */
	if (!r->n && !READ_ONCE(gpup2p_said_idle))
		pr_info("idle: %s\n", GPUP2P_IDLE_REASON);
	WRITE_ONCE(gpup2p_said_idle, !r->n);
	if (r->overflow)
		pr_warn_once("more than %d device-private regions: only the first are considered\n",
			     GPUP2P_MAX_REGIONS);
	kfree(r);
}

static void gpup2p_scan_fn(struct work_struct *work)
{
	mutex_lock(&gpup2p_scan_lock);
	gpup2p_scan();
	mutex_unlock(&gpup2p_scan_lock);
	if (!READ_ONCE(gpup2p_exiting))
		queue_delayed_work(system_long_wq, &gpup2p_scan_work,
				   msecs_to_jiffies(max(scan_ms, 10U)));
}

/* ---- driver binding -------------------------------------------------------------- */

/*
 * Before a driver unbinds from a device (device lock held): withdraw every
 * window of the device, invalidating every alias it handed out, while the
 * driver and its pagemaps are still there.
 */
static void gpup2p_detach(struct pci_dev *pdev)
{
	struct gpup2p_map *m, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&gpup2p_mutex);
	list_for_each_entry_safe(m, tmp, &gpup2p_maps, node)
		if (m->pdev == pdev)
			list_move_tail(&m->node, &gone);
	mutex_unlock(&gpup2p_mutex);
	list_for_each_entry_safe(m, tmp, &gone, node) {
		list_del(&m->node);
		gpup2p_map_free(m);
	}
}

static int gpup2p_bus_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct device *dev = data;

	if (!dev_is_pci(dev))
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_UNBIND_DRIVER) {
		gpup2p_detach(to_pci_dev(dev));
	} else if (action == BUS_NOTIFY_BOUND_DRIVER &&
		   !READ_ONCE(gpup2p_exiting)) {
		/* A new driver may make a refused pagemap acceptable. */
		atomic_set(&gpup2p_refusals_stale, 1);
		mod_delayed_work(system_long_wq, &gpup2p_scan_work, 0);
	}
	return NOTIFY_DONE;
}

static struct notifier_block gpup2p_bus_nb = {
	.notifier_call = gpup2p_bus_notify,
};

/* ---- sysfs: /sys/kernel/hmm_p2p_gpu/ -------------------------------------------- */

static ssize_t providers_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	struct gpup2p_map *m;
	int len = 0;

	mutex_lock(&gpup2p_mutex);
	list_for_each_entry(m, &gpup2p_maps, node)
		len += sysfs_emit_at(buf, len,
				     "%s %s %s pagemap %#llx BAR%d %#llx+%#zx\n",
				     m->name, pci_name(m->pdev), m->how,
				     (u64)m->pgmap_start, m->win.bar,
				     m->win.bar_offset, m->win.size);
	mutex_unlock(&gpup2p_mutex);
	return len;
}

static ssize_t windows_show(struct kobject *kobj, struct kobj_attribute *a,
			    char *buf)
{
	unsigned int i;
	int len = 0;

	mutex_lock(&gpup2p_mutex);
	for (i = 0; i < gpup2p_nr_admin; i++)
		len += sysfs_emit_at(buf, len, "%s %d %#llx %#llx\n",
				     pci_name(gpup2p_admin[i].pdev),
				     gpup2p_admin[i].bar,
				     gpup2p_admin[i].bar_offset,
				     (u64)gpup2p_admin[i].pgmap_start);
	mutex_unlock(&gpup2p_mutex);
	return len;
}

/*
 * Is @start the start of a device-private iomem region? (The pagemap
 * itself may not exist yet; the scan waits for it.)
 */
static int gpup2p_is_region_start(struct resource *res, void *arg)
{
	return res->start == *(phys_addr_t *)arg;
}

static int gpup2p_window_add(struct pci_dev *pdev, int bar, u64 bar_offset,
			     phys_addr_t pgmap_start)
{
	unsigned int i;

	/* A bridge's BAR holds no device memory a pagemap could be. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) {
		pr_err("windows: %s is a bridge, not a device with memory\n",
		       pci_name(pdev));
		return -EINVAL;
	}
	/*
	 * The BAR number first: it indexes the device's resources. Device
	 * memory is a prefetchable BAR (VRAM apertures are; register BARs,
	 * which a DMA write must never reach, are not).
	 */
	if (bar < 0 || bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_PREFETCH) ||
	    bar_offset >= pci_resource_len(pdev, bar) ||
	    !IS_ALIGNED(pci_resource_start(pdev, bar) + bar_offset,
			SUBSECTION_SIZE)) {
		pr_err("windows: %s BAR%d offset %#llx: not a prefetchable memory BAR, beyond it, or not %lu-byte aligned\n",
		       pci_name(pdev), bar, bar_offset, SUBSECTION_SIZE);
		return -EINVAL;
	}
	/*
	 * The walk clamps what it reports to [start, end], and stops once a
	 * region ends right before end: walk all of it and compare starts.
	 */
	if (!pgmap_start ||
	    walk_iomem_res_desc(IORES_DESC_DEVICE_PRIVATE_MEMORY,
				IORESOURCE_MEM, 0, U64_MAX, &pgmap_start,
				gpup2p_is_region_start) != 1) {
		pr_err("windows: %pa is not the start of a device-private region (see /proc/iomem)\n",
		       &pgmap_start);
		return -EINVAL;
	}
	if (gpup2p_nr_admin == ARRAY_SIZE(gpup2p_admin)) {
		pr_err("windows: at most %d windows\n", GPUP2P_MAX_WINDOWS);
		return -ENOSPC;
	}
	for (i = 0; i < gpup2p_nr_admin; i++) {
		struct gpup2p_admin_window *w = &gpup2p_admin[i];

		if (w->pgmap_start == pgmap_start ||
		    (w->pdev == pdev && w->bar == bar)) {
			pr_err("windows: %s BAR%d or the pagemap at %pa has a window already\n",
			       pci_name(pdev), bar, &pgmap_start);
			return -EEXIST;
		}
	}
	gpup2p_admin[gpup2p_nr_admin++] = (struct gpup2p_admin_window){
		.pdev = pci_dev_get(pdev),
		.bar = bar,
		.bar_offset = bar_offset,
		.pgmap_start = pgmap_start,
	};
	return 0;
}

/*
 * Withdraw the window of @bdf's BAR @bar (by name: the device may be gone).
 * The map of a window goes under its device's lock, then the entry.
 * gpup2p_scan_lock held.
 */
static int gpup2p_window_del(const char *bdf, int bar)
{
	struct gpup2p_admin_window *w = NULL;
	struct gpup2p_map *m = NULL;
	struct pci_dev *pdev = NULL;
	phys_addr_t start = 0;
	unsigned int i;

	mutex_lock(&gpup2p_mutex);
	for (i = 0; i < gpup2p_nr_admin; i++) {
		if (!strcmp(pci_name(gpup2p_admin[i].pdev), bdf) &&
		    gpup2p_admin[i].bar == bar) {
			w = &gpup2p_admin[i];
			pdev = pci_dev_get(w->pdev);
			start = w->pgmap_start;
			break;
		}
	}
	mutex_unlock(&gpup2p_mutex);
	if (!pdev) {
		pr_err("windows: %s BAR%d has no window\n", bdf, bar);
		return -ENOENT;
	}
	/*
	 * Only the scan lock's holder changes the admin windows. Never wait
	 * for the device: an unbind holding its lock may wait for a pagemap
	 * reference only a sweep (which needs the scan lock) drops.
	 */
	if (!device_trylock(&pdev->dev)) {
		pr_err("windows: %s is busy (binding or unbinding): try again\n",
		       bdf);
		pci_dev_put(pdev);
		return -EBUSY;
	}
	mutex_lock(&gpup2p_mutex);
	m = gpup2p_map_at(start);
	if (m && m->pdev == pdev && !strcmp(m->how, "window"))
		list_del(&m->node);
	else
		m = NULL;
	pci_dev_put(w->pdev);
	*w = gpup2p_admin[--gpup2p_nr_admin];
	gpup2p_nr_refused = 0;
	mutex_unlock(&gpup2p_mutex);
	if (m)
		gpup2p_map_free(m);
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
	return 0;
}

/*
 * "add <pci device> <bar> <bar offset> <pagemap start>": the device-private
 * pagemap starting at that physical address is the BAR from that offset on,
 * page for page. "del <pci device> <bar>" withdraws it. Root only.
 */
static ssize_t windows_store(struct kobject *kobj, struct kobj_attribute *a,
			     const char *buf, size_t count)
{
	unsigned int domain, bus, slot, fn;
	char op[4], bdf[32], name[16];
	unsigned long long offset = 0, start = 0;
	struct pci_dev *pdev;
	int bar, n, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	n = sscanf(buf, "%3s %31s %d %llx %llx", op, bdf, &bar, &offset,
		   &start);
	if (n < 3 || (strcmp(op, "add") && strcmp(op, "del")) ||
	    (!strcmp(op, "add") && n != 5) ||
	    sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4 ||
	    domain > 0xffff || bus > 0xff || slot > 0x1f || fn > 7) {
		pr_err("windows: expected \"add DDDD:BB:DD.F BAR OFFSET PAGEMAP_START\" or \"del DDDD:BB:DD.F BAR\"\n");
		return -EINVAL;
	}
	/* As pci_name() spells it. */
	snprintf(name, sizeof(name), "%04x:%02x:%02x.%u", domain, bus, slot,
		 fn);
	mutex_lock(&gpup2p_scan_lock);
	if (!strcmp(op, "del")) {
		ret = gpup2p_window_del(name, bar);
	} else {
		pdev = pci_get_domain_bus_and_slot(domain, bus,
						   PCI_DEVFN(slot, fn));
		if (!pdev) {
			pr_err("windows: no PCI device %s\n", name);
			ret = -ENODEV;
		} else {
			mutex_lock(&gpup2p_mutex);
			ret = gpup2p_window_add(pdev, bar, offset, start);
			if (!ret)
				gpup2p_nr_refused = 0;
			mutex_unlock(&gpup2p_mutex);
			pci_dev_put(pdev);
		}
	}
	/* Provide at once, so that the writer sees the result. */
	if (!ret)
		gpup2p_scan();
	mutex_unlock(&gpup2p_scan_lock);
	return ret ? ret : count;
}

/* Root only, as /proc/iomem's addresses are. */
static struct kobj_attribute gpup2p_providers_attr = __ATTR_RO_MODE(providers, 0400);
static struct kobj_attribute gpup2p_windows_attr = __ATTR_RW_MODE(windows, 0600);

static struct attribute *gpup2p_attrs[] = {
	&gpup2p_providers_attr.attr,
	&gpup2p_windows_attr.attr,
	NULL,
};

static const struct attribute_group gpup2p_group = {
	.attrs = gpup2p_attrs,
};

static struct kobject *gpup2p_kobj;

/* ---- module ---------------------------------------------------------------------- */

static int gpup2p_count_region(struct resource *res, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

/* How many device-private regions exist now. */
static unsigned int gpup2p_count_regions(void)
{
	unsigned int n = 0;

	walk_iomem_res_desc(IORES_DESC_DEVICE_PRIVATE_MEMORY, IORESOURCE_MEM,
			    0, U64_MAX, &n, gpup2p_count_region);
	return n;
}

/* Is the xe rule on (its layout verified for this kernel and configuration)? */
static bool gpup2p_xe_rule_on(void)
{
#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	return GPUP2P_XE_LAYOUT_HOLDS();
#else
	return false;
#endif
}

/* What the module does while not idle: said by the load line and by state. */
static void gpup2p_describe(char *buf, size_t size)
{
	snprintf(buf, size,
		 "looking for device-private pagemaps every %u ms (rules: amdgpu%s%s; layout verified for %s)",
		 scan_ms,
		 gpup2p_xe_rule_on() ? ", xe" :
				       ", not xe (its layout is not verified for this kernel's configuration)",
		 gpup2p_nr_aliases ? " + driver_rules" : "",
		 GPUP2P_LAYOUT_VERIFIED);
}

/*
 * "idle: <why>" once a scan found no device-private memory, else "active:
 * ..."; /sys/kernel/hmm_p2p/providers/gpu-* shows what it provides.
 */
static int state_get(char *buf, const struct kernel_param *kp)
{
	char what[224];

	if (READ_ONCE(gpup2p_said_idle))
		return sysfs_emit(buf, "idle: %s\n", GPUP2P_IDLE_REASON);
	gpup2p_describe(what, sizeof(what));
	return sysfs_emit(buf, "active: %s\n", what);
}

static const struct kernel_param_ops state_ops = {
	.set = hmm_p2p_param_set_readonly,
	.get = state_get,
};

module_param_cb(state, &state_ops, NULL, 0444);
MODULE_PARM_DESC(state,
		 "Read-only: \"idle: <why>\" or \"active: ...\", as the kernel log says it");

static int __init gpu_p2p_init(void)
{
	char what[224];
	int ret;

	ret = gpup2p_parse_driver_rules();
	if (ret)
		return ret;
	INIT_DELAYED_WORK(&gpup2p_scan_work, gpup2p_scan_fn);
	gpup2p_kobj = kobject_create_and_add("hmm_p2p_gpu", kernel_kobj);
	if (!gpup2p_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(gpup2p_kobj, &gpup2p_group);
	if (ret)
		goto err_kobj;
	ret = bus_register_notifier(&pci_bus_type, &gpup2p_bus_nb);
	if (ret)
		goto err_kobj;
	/*
	 * One line at load: idle and why, when there is no device memory at
	 * all (the scan then says nothing until some appears), else what the
	 * module does.
	 */
	if (!gpup2p_count_regions()) {
		WRITE_ONCE(gpup2p_said_idle, true);
		pr_info("version %s on %s: idle: %s\n", HMM_P2P_VERSION,
			HMM_P2P_KERNELRELEASE, GPUP2P_IDLE_REASON);
	} else {
		gpup2p_describe(what, sizeof(what));
		pr_info("version %s on %s: %s\n", HMM_P2P_VERSION,
			HMM_P2P_KERNELRELEASE, what);
	}
	/* Long: a scan may wait for a window's pages to settle. */
	queue_delayed_work(system_long_wq, &gpup2p_scan_work, 0);
	return 0;

err_kobj:
	kobject_put(gpup2p_kobj);
	return ret;
}

static void __exit gpu_p2p_exit(void)
{
	struct gpup2p_map *m;
	struct pci_dev *pdev;
	unsigned int i;

	/* No new windows from the files, the scan or the notifier. */
	kobject_put(gpup2p_kobj);
	mutex_lock(&gpup2p_mutex);
	gpup2p_exiting = true;
	mutex_unlock(&gpup2p_mutex);
	cancel_delayed_work_sync(&gpup2p_scan_work);
	/*
	 * Device by device under its device lock, with the bus notifier
	 * still in place: a concurrent unbind either waits for us or has
	 * already withdrawn the device's windows.
	 */
	for (;;) {
		mutex_lock(&gpup2p_mutex);
		m = list_first_entry_or_null(&gpup2p_maps, struct gpup2p_map,
					     node);
		pdev = m ? pci_dev_get(m->pdev) : NULL;
		mutex_unlock(&gpup2p_mutex);
		if (!pdev)
			break;
		device_lock(&pdev->dev);
		gpup2p_detach(pdev);
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
	bus_unregister_notifier(&pci_bus_type, &gpup2p_bus_nb);
	/* A bind that saw gpup2p_exiting too late may have queued a scan. */
	cancel_delayed_work_sync(&gpup2p_scan_work);
	for (i = 0; i < gpup2p_nr_admin; i++)
		pci_dev_put(gpup2p_admin[i].pdev);
}

module_init(gpu_p2p_init);
module_exit(gpu_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p provider for the device memory of unmodified GPU drivers");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
