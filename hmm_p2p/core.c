// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p core: the provider registry and hmm_p2p_range_fault().
 *
 * No mm/hmm.c internals are copied: the P2P-aware fault is built from the
 * exported hmm_range_fault(). A walk with range->dev_private_owner set to a
 * provider's owner returns that provider's device-private pfns untouched;
 * those are translated through the provider, and whatever cannot be aliased
 * is faulted (migrated) by a second walk over just those pages, with the
 * caller's own flags and owner. Every walk shares the caller's notifier_seq,
 * so an invalidation in between yields -EBUSY and the caller retries, as it
 * always does with hmm_range_fault().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/srcu.h>

#include "hmm_p2p_compat.h"
#include "hook.h"
#include "internal.h"

static bool enable = true;
module_param(enable, bool, 0644);
MODULE_PARM_DESC(enable,
		 "Answer device-private pages with P2P aliases (default Y); N makes hmm_p2p_range_fault() behave exactly like hmm_range_fault()");

/* A device-private pfn range and the provider that owns it. */
struct hmm_p2p_pfn_range {
	unsigned long start, end;	/* pfns, end exclusive */
	struct hmm_p2p_provider *prov;
};

/*
 * What hmm_p2p_range_fault() reads: an immutable snapshot, replaced as a
 * whole by writers and freed after an SRCU grace period. SRCU because the
 * readers sleep (they fault pages) and unregistration must wait for them.
 */
struct hmm_p2p_snapshot {
	unsigned long lo, hi;		/* bounds of all ranges (prefilter) */
	unsigned int nr_providers;
	unsigned int nr_ranges;
	struct hmm_p2p_provider *providers[HMM_P2P_MAX_PROVIDERS];
	struct hmm_p2p_pfn_range ranges[];
};

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
};

static void count(struct hmm_p2p_provider *prov, enum hmm_p2p_counter c,
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

/* ---- snapshot ---------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct hmm_p2p_pfn_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return 0;
}

/* Build a snapshot of the provider list; called with hmm_p2p_lock held. */
static struct hmm_p2p_snapshot *snapshot_build(gfp_t gfp)
{
	struct hmm_p2p_provider *prov;
	struct hmm_p2p_pagemap *pm;
	struct hmm_p2p_snapshot *s;
	unsigned int n = 0, i;

	list_for_each_entry(prov, &hmm_p2p_providers, node)
		list_for_each_entry(pm, &prov->pagemaps, node)
			n += pm->pgmap->nr_range;

	s = kzalloc(struct_size(s, ranges, n), gfp);
	if (!s)
		return NULL;

	list_for_each_entry(prov, &hmm_p2p_providers, node) {
		s->providers[s->nr_providers++] = prov;
		list_for_each_entry(pm, &prov->pagemaps, node) {
			for (i = 0; i < pm->pgmap->nr_range; i++) {
				struct hmm_p2p_pfn_range *r =
					&s->ranges[s->nr_ranges++];

				r->start = PHYS_PFN(pm->pgmap->ranges[i].start);
				r->end = PHYS_PFN(pm->pgmap->ranges[i].end) + 1;
				r->prov = prov;
			}
		}
	}
	sort(s->ranges, s->nr_ranges, sizeof(s->ranges[0]), cmp_range, NULL);
	if (s->nr_ranges) {
		s->lo = s->ranges[0].start;
		for (i = 0; i < s->nr_ranges; i++)
			s->hi = max(s->hi, s->ranges[i].end);
	}
	return s;
}

/* Publish a new snapshot and wait until no reader uses the old one. */
static void snapshot_publish(struct hmm_p2p_snapshot *s)
{
	struct hmm_p2p_snapshot *old;

	old = rcu_replace_pointer(hmm_p2p_snap, s,
				  lockdep_is_held(&hmm_p2p_lock));
	synchronize_srcu(&hmm_p2p_srcu);
	kfree(old);
}

static struct hmm_p2p_provider *
snapshot_lookup(const struct hmm_p2p_snapshot *s, unsigned long pfn)
{
	unsigned int lo = 0, hi = s->nr_ranges;

	/* Ordinary RAM is outside [lo, hi): one compare, no memory access. */
	if (pfn - s->lo >= s->hi - s->lo)
		return NULL;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct hmm_p2p_pfn_range *r = &s->ranges[mid];

		if (pfn < r->start)
			hi = mid;
		else if (pfn >= r->end)
			lo = mid + 1;
		else
			return r->prov;
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

/* ---- registration ------------------------------------------------------ */

static bool provider_desc_valid(const struct hmm_p2p_provider_desc *desc)
{
	return desc && desc->name && desc->name[0] &&
	       strlen(desc->name) < HMM_P2P_NAME_LEN &&
	       !strchr(desc->name, '/') && desc->owner && desc->pdev &&
	       desc->alias;
}

struct hmm_p2p_provider *
hmm_p2p_register_provider(const struct hmm_p2p_provider_desc *desc)
{
	struct hmm_p2p_provider *prov, *p;
	struct hmm_p2p_snapshot *s;
	int ret;

	if (!provider_desc_valid(desc)) {
		pr_err("register: invalid provider description\n");
		return ERR_PTR(-EINVAL);
	}

	prov = kzalloc(sizeof(*prov), GFP_KERNEL);
	if (!prov)
		return ERR_PTR(-ENOMEM);
	prov->counters = alloc_percpu(struct hmm_p2p_counters);
	if (!prov->counters) {
		kfree(prov);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&prov->pagemaps);
	strscpy(prov->name, desc->name, sizeof(prov->name));
	prov->owner = desc->owner;
	prov->pdev = pci_dev_get(desc->pdev);
	prov->alias = desc->alias;
	prov->priv = desc->priv;

	mutex_lock(&hmm_p2p_lock);
	ret = -ENOSPC;
	if (hmm_p2p_nr_providers >= HMM_P2P_MAX_PROVIDERS)
		goto err_unlock;
	ret = -EEXIST;
	list_for_each_entry(p, &hmm_p2p_providers, node)
		if (p->owner == desc->owner || !strcmp(p->name, desc->name))
			goto err_unlock;

	ret = hmm_p2p_sysfs_add_provider(prov);
	if (ret)
		goto err_unlock_freed;

	list_add_tail(&prov->node, &hmm_p2p_providers);
	s = snapshot_build(GFP_KERNEL);
	if (!s) {
		list_del(&prov->node);
		ret = -ENOMEM;
		goto err_unlock_sysfs;
	}
	hmm_p2p_nr_providers++;
	snapshot_publish(s);
	mutex_unlock(&hmm_p2p_lock);

	pr_info("provider %s registered (BAR device %s)\n", prov->name,
		pci_name(prov->pdev));
	return prov;

err_unlock_sysfs:
	mutex_unlock(&hmm_p2p_lock);
	pr_err("register %s: %d\n", desc->name, ret);
	/* Once in sysfs, the kobject's release frees the provider. */
	hmm_p2p_sysfs_put_provider(prov);
	return ERR_PTR(ret);

err_unlock_freed:
	mutex_unlock(&hmm_p2p_lock);
	pr_err("register %s: %d\n", desc->name, ret);
	return ERR_PTR(ret);

err_unlock:
	mutex_unlock(&hmm_p2p_lock);
	pr_err("register %s: %s\n", desc->name,
	       ret == -EEXIST ? "owner or name already registered" :
				"too many providers");
	hmm_p2p_provider_free(prov);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(hmm_p2p_register_provider);

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

void hmm_p2p_unregister_provider(struct hmm_p2p_provider *prov)
{
	struct hmm_p2p_snapshot *s;

	if (IS_ERR_OR_NULL(prov))
		return;

	mutex_lock(&hmm_p2p_lock);
	list_del(&prov->node);
	hmm_p2p_nr_providers--;
	/* Small allocation on a path that must not fail. */
	s = snapshot_build(GFP_KERNEL | __GFP_NOFAIL);
	/* Waits for every hmm_p2p_range_fault() that could see @prov. */
	snapshot_publish(s);
	mutex_unlock(&hmm_p2p_lock);

	pr_info("provider %s unregistered\n", prov->name);
	hmm_p2p_sysfs_put_provider(prov);
}
EXPORT_SYMBOL_GPL(hmm_p2p_unregister_provider);

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
	snapshot_publish(s);
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
		snapshot_publish(snapshot_build(GFP_KERNEL | __GFP_NOFAIL));
	}
	mutex_unlock(&hmm_p2p_lock);
	kfree(found);
}
EXPORT_SYMBOL_GPL(hmm_p2p_provider_remove_pagemap);

/* ---- the P2P-aware fault ----------------------------------------------- */

enum { REACH_UNKNOWN, REACH_YES, REACH_NO };

struct p2p_fault {
	struct hmm_range *range;
	struct device *client;
	const struct hmm_p2p_snapshot *snap;
	void *caller_owner;
	unsigned long npages;
	u8 reach[HMM_P2P_MAX_PROVIDERS];
};

/*
 * Can @client use @prov's aliases? A NULL client accesses memory with the
 * CPU (rdma_rxe, siw): P2PDMA pages are in the kernel's direct map, so any
 * alias will do. A DMA client must be able to map P2P memory at all and
 * reach the provider's BAR through the PCI topology; that is the same
 * decision the DMA mapping code takes later, so a client never receives an
 * alias it cannot map.
 */
static bool client_reaches(struct p2p_fault *f, unsigned int idx)
{
	struct hmm_p2p_provider *prov = f->snap->providers[idx];

	if (f->reach[idx] == REACH_UNKNOWN) {
		bool ok = !f->client ||
			  (dma_pci_p2pdma_supported(f->client) &&
			   pci_p2pdma_distance(prov->pdev, f->client, false) >= 0);

		f->reach[idx] = ok ? REACH_YES : REACH_NO;
	}
	return f->reach[idx] == REACH_YES;
}

static unsigned int provider_index(const struct hmm_p2p_snapshot *s,
				   struct hmm_p2p_provider *prov)
{
	unsigned int i;

	for (i = 0; i < s->nr_providers; i++)
		if (s->providers[i] == prov)
			break;
	return i;
}

/* What the caller asked for slot @in: HMM_PFN_REQ_FAULT/WRITE bits. */
static unsigned long requested(const struct hmm_range *range, unsigned long in)
{
	return ((in & range->pfn_flags_mask) | range->default_flags) &
	       HMM_P2P_PFN_REQ_MASK;
}

/*
 * @out is what a walk with the provider's owner returned for a device-private
 * page of @prov. Store the alias in *@slot and return true, or return false
 * when the page must take the normal path (migration if a fault was asked).
 */
static bool try_alias(struct p2p_fault *f, struct hmm_p2p_provider *prov,
		      unsigned long out, unsigned long req, unsigned long *slot)
{
	unsigned long alias_pfn;
	int ret;

	/* A write was asked but the device-private PTE is read-only: the
	 * stock path faults for write; so do we.
	 */
	if ((req & HMM_PFN_REQ_WRITE) && !(out & HMM_PFN_WRITE))
		return false;

	if (!client_reaches(f, provider_index(f->snap, prov))) {
		count(prov, HMM_P2P_FALLBACK_UNREACHABLE, 1);
		return false;
	}

	ret = prov->alias(prov->priv, hmm_pfn_to_page(out), &alias_pfn);
	if (!ret && (!pfn_valid(alias_pfn) ||
		     !is_pci_p2pdma_page(pfn_to_page(alias_pfn)))) {
		pr_err_ratelimited("provider %s returned pfn %#lx, not a P2PDMA page\n",
				   prov->name, alias_pfn);
		ret = -EFAULT;
	}
	if (ret) {
		count(prov, HMM_P2P_FALLBACK_REFUSED, 1);
		return false;
	}

	/* Order 0: the alias is reported page by page. */
	*slot = (*slot & HMM_P2P_PFN_STICKY) | alias_pfn | HMM_PFN_VALID |
		(out & HMM_PFN_WRITE);
	count(prov, HMM_P2P_ALIASES, 1);
	return true;
}

/*
 * Fault the slots set in @todo, run by run, with the caller's owner. Each
 * slot's input is already what the walk should act on (@mask/@dflt say how
 * to read it). Returns 0 or what hmm_range_fault() returned.
 */
static int fault_runs(struct p2p_fault *f, const unsigned long *todo,
		      unsigned long dflt, unsigned long mask)
{
	struct hmm_range *range = f->range;
	unsigned long a, b;
	int ret;

	for_each_set_bitrange(a, b, todo, f->npages) {
		struct hmm_range sub = *range;

		sub.start = range->start + (a << PAGE_SHIFT);
		sub.end = range->start + (b << PAGE_SHIFT);
		sub.hmm_pfns = range->hmm_pfns + a;
		sub.default_flags = dflt;
		sub.pfn_flags_mask = mask;
		sub.dev_private_owner = f->caller_owner;
		ret = hmm_range_fault(&sub);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The common case: one provider whose owner is not the caller's, and a
 * caller that mirrors no device memory of its own. One walk returns the
 * provider's pages untouched and faults everything else as asked; only the
 * pages that cannot be aliased are walked again.
 */
static int fault_single_owner(struct p2p_fault *f,
			      struct hmm_p2p_provider *only)
{
	struct hmm_range *range = f->range;
	unsigned long *pfns = range->hmm_pfns;
	unsigned long *saved_req = NULL, *todo = NULL;
	unsigned long i, nr_todo = 0;
	int ret;

	/* Per-page request bits are overwritten by the walk: keep them. */
	if (range->pfn_flags_mask & HMM_P2P_PFN_REQ_MASK) {
		saved_req = kvmalloc_array(f->npages, sizeof(*saved_req),
					   GFP_KERNEL);
		if (!saved_req)
			return -ENOMEM;
		for (i = 0; i < f->npages; i++)
			saved_req[i] = requested(range, pfns[i]);
	}

	range->dev_private_owner = only->owner;
	ret = hmm_range_fault(range);
	range->dev_private_owner = f->caller_owner;
	if (ret)
		goto out;

	for (i = 0; i < f->npages; i++) {
		unsigned long out = pfns[i], req;
		struct hmm_p2p_provider *prov;

		if (!(out & HMM_PFN_VALID))
			continue;
		prov = snapshot_lookup(f->snap, hmm_p2p_pfn_of(out));
		if (prov != only)
			continue;
		req = saved_req ? saved_req[i] : requested(range, 0);
		if (try_alias(f, prov, out, req, &pfns[i]))
			continue;
		/*
		 * Not aliased: the stock answer for a foreign page. Without
		 * a fault request that is "not valid"; with one, the slot
		 * becomes the input of the walk that faults it (REQ_FAULT
		 * is the VALID bit, so only todo slots may carry it).
		 */
		pfns[i] = out & HMM_P2P_PFN_STICKY;
		if (!(req & HMM_PFN_REQ_FAULT))
			continue;
		/* Only a fallback needs the bitmap: none on ordinary RAM. */
		if (!todo) {
			todo = bitmap_zalloc(f->npages, GFP_KERNEL);
			if (!todo) {
				ret = -ENOMEM;
				goto out;
			}
		}
		pfns[i] |= req;
		__set_bit(i, todo);
		nr_todo++;
	}

	if (nr_todo) {
		count(only, HMM_P2P_FAULTED, nr_todo);
		ret = fault_runs(f, todo, 0, HMM_P2P_PFN_REQ_MASK);
	} else if (mmu_interval_check_retry(range->notifier,
					    range->notifier_seq)) {
		ret = -EBUSY;
	}
out:
	kvfree(saved_req);
	bitmap_free(todo);
	return ret;
}

/* The caller's request for slot @i (its input was saved, or is uniform). */
static unsigned long slot_request(const struct p2p_fault *f,
				  const unsigned long *inputs, unsigned long i)
{
	return requested(f->range, inputs ? inputs[i] : 0);
}

/*
 * Did the first snapshot walk already produce what the faulting walk would:
 * every page present, none device-private, every requested write allowed?
 * Then a range of ordinary RAM costs one walk, as with hmm_range_fault().
 * (Special or I/O mappings come back without VALID: the long path.)
 */
static bool snapshot_is_final(const struct p2p_fault *f,
			      const unsigned long *inputs)
{
	const unsigned long *pfns = f->range->hmm_pfns;
	unsigned long i, need = HMM_PFN_VALID;

	if (!inputs && (requested(f->range, 0) & HMM_PFN_REQ_WRITE))
		need |= HMM_PFN_WRITE;
	for (i = 0; i < f->npages; i++) {
		unsigned long v = pfns[i];

		if ((v & need) != need ||
		    snapshot_lookup(f->snap, hmm_p2p_pfn_of(v)))
			return false;
		if (inputs && (slot_request(f, inputs, i) & HMM_PFN_REQ_WRITE) &&
		    !(v & HMM_PFN_WRITE))
			return false;
	}
	return true;
}

/* Alias what one owner's snapshot (@out) found of its pages; clear @todo. */
static void alias_owner_pages(struct p2p_fault *f, struct hmm_p2p_provider *prov,
			      const unsigned long *out,
			      const unsigned long *inputs, unsigned long *todo)
{
	unsigned long *pfns = f->range->hmm_pfns;
	unsigned long i;

	for (i = 0; i < f->npages; i++) {
		unsigned long req;

		if (!(out[i] & HMM_PFN_VALID) || !test_bit(i, todo) ||
		    snapshot_lookup(f->snap, hmm_p2p_pfn_of(out[i])) != prov)
			continue;
		req = slot_request(f, inputs, i);
		if (try_alias(f, prov, out[i], req, &pfns[i]))
			__clear_bit(i, todo);
		else if (req & HMM_PFN_REQ_FAULT)
			count(prov, HMM_P2P_FAULTED, 1);
	}
}

/*
 * Several foreign owners, or a caller with device memory of its own. The
 * first owner's snapshot walk (no faulting) goes straight into the caller's
 * array: for ordinary RAM that is already the answer. Otherwise each
 * foreign owner's snapshot finds that owner's pages, and one faulting walk
 * with the caller's flags and owner covers every page that was not aliased,
 * its slots first given back their inputs.
 */
static int fault_multi_owner(struct p2p_fault *f)
{
	struct hmm_range *range = f->range;
	unsigned long *pfns = range->hmm_pfns;
	unsigned long *inputs = NULL, *tmp = NULL, *todo = NULL, i;
	struct hmm_p2p_provider *prov;
	bool first = true;
	unsigned int p;
	int ret;

	/* Per-page request bits are overwritten by the walks: keep them. */
	if (range->pfn_flags_mask & HMM_P2P_PFN_REQ_MASK) {
		inputs = kvmalloc_array(f->npages, sizeof(*inputs), GFP_KERNEL);
		if (!inputs)
			return -ENOMEM;
		memcpy(inputs, pfns, f->npages * sizeof(*inputs));
	}

	for (p = 0; p < f->snap->nr_providers; p++) {
		struct hmm_range snap = *range;

		prov = f->snap->providers[p];
		if (prov->owner == f->caller_owner)
			continue;
		snap.default_flags = 0;
		snap.pfn_flags_mask = 0;
		snap.dev_private_owner = prov->owner;
		if (!first) {
			memset(tmp, 0, f->npages * sizeof(*tmp));
			snap.hmm_pfns = tmp;
		}
		ret = hmm_range_fault(&snap);
		if (ret)
			goto out;

		if (first) {
			if (snapshot_is_final(f, inputs)) {
				ret = mmu_interval_check_retry(range->notifier,
							       range->notifier_seq) ?
					-EBUSY : 0;
				goto out;
			}
			ret = -ENOMEM;
			tmp = kvmalloc_array(f->npages, sizeof(*tmp), GFP_KERNEL);
			todo = bitmap_alloc(f->npages, GFP_KERNEL);
			if (!tmp || !todo)
				goto out;
			bitmap_fill(todo, f->npages);
			/* The snapshot is in pfns: alias from a copy of it. */
			memcpy(tmp, pfns, f->npages * sizeof(*tmp));
			first = false;
		}
		alias_owner_pages(f, prov, tmp, inputs, todo);
	}

	if (first) {	/* no foreign owner after all: the stock walk */
		ret = hmm_range_fault(range);
		goto out;
	}
	if (bitmap_empty(todo, f->npages)) {
		ret = mmu_interval_check_retry(range->notifier,
					       range->notifier_seq) ? -EBUSY : 0;
		goto out;
	}
	/* Give the slots still to fault their inputs back. */
	for_each_set_bit(i, todo, f->npages)
		pfns[i] = (pfns[i] & HMM_P2P_PFN_STICKY) |
			  (inputs ? inputs[i] & ~HMM_P2P_PFN_STICKY : 0);
	ret = fault_runs(f, todo, range->default_flags, range->pfn_flags_mask);
out:
	bitmap_free(todo);
	kvfree(tmp);
	kvfree(inputs);
	return ret;
}

static unsigned int foreign_providers(const struct hmm_p2p_snapshot *s,
				      void *caller_owner,
				      struct hmm_p2p_provider **last)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->nr_providers; i++) {
		if (s->providers[i]->owner == caller_owner)
			continue;
		*last = s->providers[i];
		n++;
	}
	return n;
}

int hmm_p2p_range_fault(struct hmm_range *range, struct device *client)
{
	struct hmm_p2p_provider *only = NULL;
	struct p2p_fault f = {};
	unsigned int nr_foreign;
	int idx, ret;

	if (!range || !range->notifier || !range->hmm_pfns ||
	    range->start >= range->end || !PAGE_ALIGNED(range->start) ||
	    !PAGE_ALIGNED(range->end))
		return -EINVAL;

	f.range = range;
	f.client = client;
	f.caller_owner = range->dev_private_owner;
	f.npages = (range->end - range->start) >> PAGE_SHIFT;
	count(NULL, HMM_P2P_WALKS, 1);
	count(NULL, HMM_P2P_PAGES, f.npages);

	idx = srcu_read_lock(&hmm_p2p_srcu);
	f.snap = srcu_dereference(hmm_p2p_snap, &hmm_p2p_srcu);
	nr_foreign = f.snap && READ_ONCE(enable) ?
		foreign_providers(f.snap, f.caller_owner, &only) : 0;

	if (!nr_foreign)
		ret = hmm_range_fault(range);
	else if (nr_foreign == 1 && !f.caller_owner)
		ret = fault_single_owner(&f, only);
	else
		ret = fault_multi_owner(&f);
	srcu_read_unlock(&hmm_p2p_srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(hmm_p2p_range_fault);

/* ---- module ------------------------------------------------------------ */

/* NULL if this kernel can host hmm-p2p, else the one reason it cannot. */
static const char *kernel_unsupported_reason(void)
{
	if (!IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		return "CONFIG_DEVICE_PRIVATE is not set";
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return "CONFIG_PCI_P2PDMA is not set";
#ifndef HMM_P2P_EXPORTED_HMM_RANGE_FAULT
	return "hmm_range_fault is not exported (probe export-hmm_range_fault)";
#endif
#ifndef HMM_P2P_EXPORTED_PCI_P2PDMA_ADD_RESOURCE
	return "pci_p2pdma_add_resource is not exported (probe export-pci_p2pdma_add_resource)";
#endif
	return NULL;
}

static int __init hmm_p2p_init(void)
{
	const char *why = kernel_unsupported_reason();
	const char *hooks = hmm_p2p_hook_unsupported_reason();
	int ret;

	if (why) {
		pr_err("version %s cannot run on %s: %s\n", HMM_P2P_VERSION,
		       HMM_P2P_KERNELRELEASE, why);
		return -EOPNOTSUPP;
	}
	ret = hmm_p2p_sysfs_init();
	if (ret)
		return ret;
	pr_info("version %s ready on %s: device-private P2P aliases %s, hook engine %s%s\n",
		HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE,
		enable ? "enabled" : "disabled (enable=N)",
		hooks ? "unavailable: " : "available", hooks ? hooks : "");
	return 0;
}

static void __exit hmm_p2p_exit(void)
{
	hmm_p2p_sysfs_exit();
	kfree(rcu_dereference_protected(hmm_p2p_snap, true));
}

module_init(hmm_p2p_init);
module_exit(hmm_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("Peer-to-peer DMA for HMM device-private pages");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
