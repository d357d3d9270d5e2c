// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p registry: providers, their declared device-private pagemaps, and
 * the snapshot the fault path reads.
 *
 * Writers (register, declare, withdraw) rebuild an immutable snapshot under
 * hmm_p2p_lock and publish it. Readers hold hmm_p2p_srcu only while they
 * translate device-private pages into aliases: a few lookups and provider
 * callbacks that never fault and never sleep for long. Walks of the process
 * address space, which may block indefinitely (a stalled file, an unanswered
 * userfaultfd), happen outside it. Hence:
 *
 *  - adding (a provider, a pagemap) never waits: the replaced snapshot is
 *    freed after a grace period by call_srcu();
 *  - withdrawing waits for the translations in flight, nothing longer, so
 *    that no translation uses the provider or the pagemap once it returns.
 *
 * A walk may still use the owner of a provider that is gone as its
 * dev_private_owner: a cookie compared with dev_pagemap.owner, nothing more.
 * Whatever it returns is checked against the current snapshot when it is
 * translated (fault.c), so a page of a withdrawn pagemap is never aliased.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/math.h>
#include <linux/memremap.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/srcu.h>

#include "internal.h"

struct hmm_p2p_pagemap {
	struct list_head node;
	struct dev_pagemap *pgmap;
};

DEFINE_STATIC_SRCU(hmm_p2p_srcu);
static DEFINE_MUTEX(hmm_p2p_lock);	/* writers: list and snapshot */
static LIST_HEAD(hmm_p2p_providers);
static unsigned int hmm_p2p_nr_providers;
static struct hmm_p2p_snapshot __rcu *hmm_p2p_snap;

static DEFINE_PER_CPU(struct hmm_p2p_counters, hmm_p2p_total);

const char *const hmm_p2p_counter_names[HMM_P2P_NR_COUNTERS] = {
	[HMM_P2P_WALKS] = "walks",
	[HMM_P2P_PAGES] = "pages",
	[HMM_P2P_ALIASES] = "aliases",
	[HMM_P2P_FALLBACK_UNREACHABLE] = "fallback_unreachable",
	[HMM_P2P_FALLBACK_REFUSED] = "fallback_refused",
	[HMM_P2P_FAULTED] = "faulted",
	[HMM_P2P_FALLBACK_UNDECLARED] = "fallback_undeclared",
};

/* ---- counters ------------------------------------------------------------ */

void hmm_p2p_count(struct hmm_p2p_provider *prov, enum hmm_p2p_counter c,
		   u64 n)
{
	this_cpu_add(hmm_p2p_total.c[c], n);
	if (prov)
		this_cpu_add(prov->counters->c[c], n);
}

u64 hmm_p2p_counter_read(struct hmm_p2p_provider *prov, enum hmm_p2p_counter c)
{
	u64 sum = 0;
	int cpu;

	if (c >= HMM_P2P_NR_COUNTERS)
		return 0;
	for_each_possible_cpu(cpu)
		sum += prov ? per_cpu_ptr(prov->counters, cpu)->c[c] :
			      per_cpu(hmm_p2p_total, cpu).c[c];
	return sum;
}
EXPORT_SYMBOL_GPL(hmm_p2p_counter_read);

/* ---- snapshots ----------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct hmm_p2p_pfn_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return 0;
}

static void snapshot_add_owner(struct hmm_p2p_snapshot *s, void *owner)
{
	unsigned int i;

	for (i = 0; i < s->nr_owners; i++)
		if (s->owners[i] == owner)
			return;
	s->owners[s->nr_owners++] = owner;
}

/* Build a snapshot of the provider list; called with hmm_p2p_lock held. */
static struct hmm_p2p_snapshot *snapshot_build(gfp_t gfp)
{
	struct hmm_p2p_provider *prov;
	struct hmm_p2p_pagemap *pm;
	struct hmm_p2p_snapshot *s;
	unsigned int n = 0, i;

	lockdep_assert_held(&hmm_p2p_lock);
	list_for_each_entry(prov, &hmm_p2p_providers, node)
		list_for_each_entry(pm, &prov->pagemaps, node)
			n += pm->pgmap->nr_range;

	s = kzalloc(struct_size(s, ranges, n), gfp);
	if (!s)
		return NULL;

	list_for_each_entry(prov, &hmm_p2p_providers, node) {
		s->providers[s->nr_providers++] = prov;
		snapshot_add_owner(s, prov->owner);
		list_for_each_entry(pm, &prov->pagemaps, node) {
			for (i = 0; i < pm->pgmap->nr_range; i++) {
				struct hmm_p2p_pfn_range *r =
					&s->ranges[s->nr_ranges++];

				r->start = PHYS_PFN(pm->pgmap->ranges[i].start);
				r->end = PHYS_PFN(pm->pgmap->ranges[i].end) + 1;
				r->pgmap = pm->pgmap;
				r->prov = prov;
			}
		}
	}
	sort(s->ranges, s->nr_ranges, sizeof(s->ranges[0]), cmp_range, NULL);
	return s;
}

static void snapshot_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct hmm_p2p_snapshot, rcu));
}

/*
 * Publish @s. When it withdraws something (a provider, a pagemap), wait
 * until no translation can still use the old one; when it only adds, let
 * the old one go after a grace period without waiting.
 */
static void snapshot_publish(struct hmm_p2p_snapshot *s, bool withdraws)
{
	struct hmm_p2p_snapshot *old;

	old = rcu_replace_pointer(hmm_p2p_snap, s,
				  lockdep_is_held(&hmm_p2p_lock));
	if (!old)
		return;
	if (withdraws) {
		synchronize_srcu(&hmm_p2p_srcu);
		kfree(old);
	} else {
		call_srcu(&hmm_p2p_srcu, &old->rcu, snapshot_free_rcu);
	}
}

/*
 * The owners of the registered providers other than @caller_owner, copied
 * into @owners (HMM_P2P_MAX_PROVIDERS entries): the walks use them as
 * dev_private_owner after the read section has ended.
 */
unsigned int hmm_p2p_foreign_owners(void *caller_owner, void **owners)
{
	const struct hmm_p2p_snapshot *s;
	unsigned int i, n = 0;
	int idx;

	idx = srcu_read_lock(&hmm_p2p_srcu);
	s = srcu_dereference(hmm_p2p_snap, &hmm_p2p_srcu);
	for (i = 0; s && i < s->nr_owners; i++)
		if (s->owners[i] != caller_owner)
			owners[n++] = s->owners[i];
	srcu_read_unlock(&hmm_p2p_srcu, idx);
	return n;
}

/* A translation section: the snapshot stays valid until the matching end. */
const struct hmm_p2p_snapshot *hmm_p2p_translate_begin(int *idx)
{
	*idx = srcu_read_lock(&hmm_p2p_srcu);
	return srcu_dereference(hmm_p2p_snap, &hmm_p2p_srcu);
}

void hmm_p2p_translate_end(int idx)
{
	srcu_read_unlock(&hmm_p2p_srcu, idx);
}

/* The declared range holding @pfn, or NULL. */
const struct hmm_p2p_pfn_range *
hmm_p2p_snapshot_find(const struct hmm_p2p_snapshot *s, unsigned long pfn)
{
	unsigned int lo = 0, hi;

	if (!s)
		return NULL;
	hi = s->nr_ranges;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct hmm_p2p_pfn_range *r = &s->ranges[mid];

		if (pfn < r->start)
			hi = mid;
		else if (pfn >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static bool ranges_overlap_locked(struct dev_pagemap *pgmap)
{
	struct hmm_p2p_provider *prov;
	struct hmm_p2p_pagemap *pm;
	unsigned int i, j;

	list_for_each_entry(prov, &hmm_p2p_providers, node)
		list_for_each_entry(pm, &prov->pagemaps, node)
			for (i = 0; i < pm->pgmap->nr_range; i++)
				for (j = 0; j < pgmap->nr_range; j++)
					if (pm->pgmap->ranges[i].start <=
						    pgmap->ranges[j].end &&
					    pgmap->ranges[j].start <=
						    pm->pgmap->ranges[i].end)
						return true;
	return false;
}

/* ---- registration -------------------------------------------------------- */

static bool provider_desc_valid(const struct hmm_p2p_provider_desc *desc)
{
	return desc && desc->name && desc->name[0] &&
	       strlen(desc->name) < HMM_P2P_NAME_LEN &&
	       !strchr(desc->name, '/') && desc->owner && desc->pdev &&
	       desc->alias;
}

static struct hmm_p2p_provider *
provider_alloc(const struct hmm_p2p_provider_desc *desc)
{
	struct hmm_p2p_provider *prov;

	prov = kzalloc(sizeof(*prov), GFP_KERNEL);
	if (!prov)
		return NULL;
	prov->counters = alloc_percpu(struct hmm_p2p_counters);
	if (!prov->counters) {
		kfree(prov);
		return NULL;
	}
	INIT_LIST_HEAD(&prov->pagemaps);
	strscpy(prov->name, desc->name, sizeof(prov->name));
	prov->owner = desc->owner;
	prov->pdev = pci_dev_get(desc->pdev);
	prov->alias = desc->alias;
	prov->priv = desc->priv;
	return prov;
}

/* Called by the kobject release, or directly before the kobject exists. */
void hmm_p2p_provider_free(struct hmm_p2p_provider *prov)
{
	struct hmm_p2p_pagemap *pm, *tmp;

	list_for_each_entry_safe(pm, tmp, &prov->pagemaps, node)
		kfree(pm);
	pci_dev_put(prov->pdev);
	free_percpu(prov->counters);
	kfree(prov);
}

/*
 * 0 if @desc may join the registry; called with hmm_p2p_lock held. Several
 * devices may share an owner (the GPUs of an XGMI hive, xe peers): each
 * registers its own provider, and the fault path picks the provider, its
 * alias and its reachability per declared pagemap range, never per owner.
 * One device registers one provider per owner, and names are unique.
 */
static int provider_admissible_locked(const struct hmm_p2p_provider_desc *desc)
{
	struct hmm_p2p_provider *p;

	if (hmm_p2p_nr_providers >= HMM_P2P_MAX_PROVIDERS)
		return -ENOSPC;
	list_for_each_entry(p, &hmm_p2p_providers, node)
		if ((p->owner == desc->owner && p->pdev == desc->pdev) ||
		    !strcmp(p->name, desc->name))
			return -EEXIST;
	return 0;
}

struct hmm_p2p_provider *
hmm_p2p_register_provider(const struct hmm_p2p_provider_desc *desc)
{
	struct hmm_p2p_provider *prov;
	struct hmm_p2p_snapshot *s;
	int ret;

	if (!provider_desc_valid(desc)) {
		pr_err("register: invalid provider description\n");
		return ERR_PTR(-EINVAL);
	}
	prov = provider_alloc(desc);
	if (!prov)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&hmm_p2p_lock);
	ret = provider_admissible_locked(desc);
	if (ret) {
		mutex_unlock(&hmm_p2p_lock);
		pr_err("register %s: %d\n", desc->name, ret);
		hmm_p2p_provider_free(prov);
		return ERR_PTR(ret);
	}
	ret = hmm_p2p_sysfs_add_provider(prov);
	if (ret) {
		/* The provider has been freed with its kobject. */
		mutex_unlock(&hmm_p2p_lock);
		pr_err("register %s: %d\n", desc->name, ret);
		return ERR_PTR(ret);
	}
	list_add_tail(&prov->node, &hmm_p2p_providers);
	s = snapshot_build(GFP_KERNEL);
	if (!s) {
		list_del(&prov->node);
		mutex_unlock(&hmm_p2p_lock);
		pr_err("register %s: %d\n", desc->name, -ENOMEM);
		/* Once in sysfs, the kobject's release frees the provider. */
		hmm_p2p_sysfs_put_provider(prov);
		return ERR_PTR(-ENOMEM);
	}
	hmm_p2p_nr_providers++;
	snapshot_publish(s, false);
	mutex_unlock(&hmm_p2p_lock);

	pr_info("provider %s registered (BAR device %s)\n", prov->name,
		pci_name(prov->pdev));
	return prov;
}
EXPORT_SYMBOL_GPL(hmm_p2p_register_provider);

void hmm_p2p_unregister_provider(struct hmm_p2p_provider *prov)
{
	bool last;

	if (IS_ERR_OR_NULL(prov))
		return;

	mutex_lock(&hmm_p2p_lock);
	list_del(&prov->node);
	last = !--hmm_p2p_nr_providers;
	/*
	 * Small allocation on a path that must not fail. Waits for the
	 * translations that could see @prov (never for a fault).
	 */
	snapshot_publish(snapshot_build(GFP_KERNEL | __GFP_NOFAIL), true);
	mutex_unlock(&hmm_p2p_lock);

	pr_info("provider %s unregistered%s\n", prov->name,
		last ? "; no provider left: pages in device memory migrate as without hmm-p2p" :
		       "");
	hmm_p2p_sysfs_put_provider(prov);
}
EXPORT_SYMBOL_GPL(hmm_p2p_unregister_provider);

/* ---- what can go P2P ----------------------------------------------------- */

/* Device-private regions no declared pagemap overlaps: how many, how big. */
struct reach_regions {
	const struct hmm_p2p_snapshot *snap;
	unsigned int n;
	u64 bytes;
};

static bool snapshot_overlaps(const struct hmm_p2p_snapshot *s,
			      unsigned long start, unsigned long end)
{
	unsigned int i;

	for (i = 0; s && i < s->nr_ranges; i++)
		if (s->ranges[i].start < end && start < s->ranges[i].end)
			return true;
	return false;
}

/*
 * @res is the walk's copy (the resource lock is not held): count it if no
 * declared range overlaps it. A region declared in part counts as served.
 */
static int reach_collect(struct resource *res, void *arg)
{
	struct reach_regions *r = arg;

	if (snapshot_overlaps(r->snap, PHYS_PFN(res->start),
			      PHYS_PFN(res->end) + 1))
		return 0;
	r->n++;
	r->bytes += resource_size(res);
	return 0;
}

/*
 * A user whose GPU no provider serves sees it here, in the consumer's state
 * and load line, rather than guessing from a counter that stays at zero.
 * The state is world-readable: it gives a count and a size, not the
 * regions' physical addresses, which /proc/iomem shows (with the device
 * each belongs to) to root only. Read in a translation section, like the
 * fault path: a reader never waits for a writer, nor a writer for it
 * longer than the walk of the iomem tree.
 */
bool hmm_p2p_describe_reach(char *buf, size_t size)
{
	struct reach_regions r = { };
	unsigned int nr;
	size_t len;
	int idx;

	r.snap = hmm_p2p_translate_begin(&idx);
	nr = r.snap ? r.snap->nr_providers : 0;
	walk_iomem_res_desc(IORES_DESC_DEVICE_PRIVATE_MEMORY, IORESOURCE_MEM,
			    0, U64_MAX, &r, reach_collect);
	hmm_p2p_translate_end(idx);

	if (nr)
		len = scnprintf(buf, size, "%u provider%s registered", nr,
				nr == 1 ? "" : "s");
	else
		len = scnprintf(buf, size,
				"no provider registered: pages in device memory migrate as without hmm-p2p");
	if (r.n)
		scnprintf(buf + len, size - len,
			  "; device-private memory no provider serves: %u region%s, %llu MiB (/proc/iomem names their devices)",
			  r.n, r.n == 1 ? "" : "s",
			  DIV_ROUND_UP_ULL(r.bytes, SZ_1M));
	return nr;
}
EXPORT_SYMBOL_GPL(hmm_p2p_describe_reach);

int hmm_p2p_provider_add_pagemap(struct hmm_p2p_provider *prov,
				 struct dev_pagemap *pgmap)
{
	struct hmm_p2p_snapshot *s;
	struct hmm_p2p_pagemap *pm;
	int ret;

	if (IS_ERR_OR_NULL(prov) || !pgmap || !pgmap->nr_range ||
	    pgmap->type != MEMORY_DEVICE_PRIVATE || pgmap->owner != prov->owner) {
		pr_err("add_pagemap: not a device-private pagemap of provider's owner\n");
		return -EINVAL;
	}
	pm = kzalloc(sizeof(*pm), GFP_KERNEL);
	if (!pm)
		return -ENOMEM;
	pm->pgmap = pgmap;

	mutex_lock(&hmm_p2p_lock);
	ret = -EEXIST;
	if (ranges_overlap_locked(pgmap))
		goto err;
	list_add_tail(&pm->node, &prov->pagemaps);
	s = snapshot_build(GFP_KERNEL);
	ret = -ENOMEM;
	if (!s) {
		list_del(&pm->node);
		goto err;
	}
	snapshot_publish(s, false);
	mutex_unlock(&hmm_p2p_lock);
	return 0;
err:
	mutex_unlock(&hmm_p2p_lock);
	kfree(pm);
	if (ret == -EEXIST)
		pr_err("add_pagemap: range already registered\n");
	return ret;
}
EXPORT_SYMBOL_GPL(hmm_p2p_provider_add_pagemap);

void hmm_p2p_provider_remove_pagemap(struct hmm_p2p_provider *prov,
				     struct dev_pagemap *pgmap)
{
	struct hmm_p2p_pagemap *pm, *found = NULL;

	if (IS_ERR_OR_NULL(prov) || !pgmap)
		return;
	mutex_lock(&hmm_p2p_lock);
	list_for_each_entry(pm, &prov->pagemaps, node)
		if (pm->pgmap == pgmap)
			found = pm;
	if (found) {
		list_del(&found->node);
		snapshot_publish(snapshot_build(GFP_KERNEL | __GFP_NOFAIL),
				 true);
	}
	mutex_unlock(&hmm_p2p_lock);
	kfree(found);
}
EXPORT_SYMBOL_GPL(hmm_p2p_provider_remove_pagemap);

/* ---- sysfs ----------------------------------------------------------------- */

/*
 * Both read the current snapshot, not the provider's pagemap list: the
 * registry's lock is held while a provider's sysfs directory is created
 * (and removed again if that fails, which waits for its readers), so a
 * reader must not take it. The snapshot's ranges are copies; nothing they
 * point to is dereferenced.
 */
unsigned long hmm_p2p_provider_declared_pages(struct hmm_p2p_provider *prov)
{
	const struct hmm_p2p_snapshot *s;
	unsigned long pages = 0;
	unsigned int i;
	int idx;

	s = hmm_p2p_translate_begin(&idx);
	for (i = 0; s && i < s->nr_ranges; i++)
		if (s->ranges[i].prov == prov)
			pages += s->ranges[i].end - s->ranges[i].start;
	hmm_p2p_translate_end(idx);
	return pages;
}

int hmm_p2p_provider_emit_windows(struct hmm_p2p_provider *prov, char *buf)
{
	const struct hmm_p2p_snapshot *s;
	unsigned int i;
	int idx, len = 0;

	s = hmm_p2p_translate_begin(&idx);
	for (i = 0; s && i < s->nr_ranges; i++)
		if (s->ranges[i].prov == prov)
			len += hmm_p2p_bar_windows_emit(s->ranges[i].start,
							s->ranges[i].end, buf,
							len);
	hmm_p2p_translate_end(idx);
	return len;
}

/* Module exit: every provider has unregistered (they depend on us). */
void hmm_p2p_registry_exit(void)
{
	/* Snapshots replaced without waiting are freed by now. */
	srcu_barrier(&hmm_p2p_srcu);
	kfree(rcu_dereference_protected(hmm_p2p_snap, true));
}
