// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_range_fault(): hmm_range_fault() that answers device-private pages
 * of registered providers with P2P aliases. No mm/hmm.c internals are
 * copied; it is built from the exported hmm_range_fault() in three steps:
 *
 *  1. Owner walks: hmm_range_fault() with no fault request and
 *     dev_private_owner set to each foreign owner in turn. They never fault,
 *     so nothing migrates and the mmap lock is never dropped. The first one
 *     writes straight into the caller's array: for present RAM that is
 *     already the answer, one walk as with hmm_range_fault().
 *  2. Translation: each device-private page found is aliased when its
 *     pagemap is declared, the client can map the provider's BAR and the
 *     provider agrees. Only this step reads the registry (registry.c): a walk
 *     that blocks (a stalled file, an unanswered userfaultfd) holds nothing
 *     that a provider change would wait for.
 *  3. Fault runs: the slots that are not final (pages to fault, device-
 *     private pages that cannot be aliased, whatever an owner walk did not
 *     see) get their inputs back and are walked with the caller's own flags
 *     and owner, run by run. hmm faults every address from the first page
 *     that needs it to the end of its walk; runs keep that from reaching
 *     (and migrating) an aliasable page next to such a page.
 *
 * Every walk uses the caller's notifier_seq, so an invalidation between
 * them makes the next one (or the caller's mmu_interval_read_retry()) fail
 * with -EBUSY, as with hmm_range_fault(). A slot that leaves here holds
 * exactly what hmm_range_fault() would have put there, or an alias inside
 * the BAR of the provider that owns the page, which the client can map.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/pci-p2pdma.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "hmm_p2p_compat.h"
#include "internal.h"

static bool enable = true;
module_param(enable, bool, 0644);
MODULE_PARM_DESC(enable,
		 "Answer device-private pages with P2P aliases (default Y); N makes hmm_p2p_range_fault() behave exactly like hmm_range_fault()");

bool hmm_p2p_enabled(void)
{
	return READ_ONCE(enable);
}

struct p2p_fault {
	struct hmm_range *range;
	struct device *client;
	void *caller_owner;
	unsigned long npages;
	unsigned int nr_owners;
	void *owners[HMM_P2P_MAX_PROVIDERS];
	unsigned long *inputs;	/* the caller's slots, if it asks per slot */
	unsigned long *tmp;	/* output of the second and later owner walks */
	unsigned long *dpriv;	/* slots holding a foreign device-private pfn */
	unsigned long *todo;	/* slots for the fault runs */
};

static void p2p_fault_free(struct p2p_fault *f)
{
	kvfree(f->inputs);
	kvfree(f->tmp);
	bitmap_free(f->dpriv);
	bitmap_free(f->todo);
}

/* Set bit @i of *@bitmap, allocating it on first use: RAM needs none. */
static int mark(struct p2p_fault *f, unsigned long **bitmap, unsigned long i)
{
	if (!*bitmap) {
		*bitmap = bitmap_zalloc(f->npages, GFP_KERNEL);
		if (!*bitmap)
			return -ENOMEM;
	}
	__set_bit(i, *bitmap);
	return 0;
}

/* What the caller asked for slot @i: HMM_PFN_REQ_FAULT/WRITE bits. */
static unsigned long slot_request(const struct p2p_fault *f, unsigned long i)
{
	const struct hmm_range *range = f->range;
	unsigned long in = f->inputs ? f->inputs[i] : 0;

	return ((in & range->pfn_flags_mask) | range->default_flags) &
	       HMM_P2P_PFN_REQ_MASK;
}

/* Would a faulting walk leave this valid, ordinary page as it is? */
static bool slot_satisfied(unsigned long out, unsigned long req)
{
	if (!(req & HMM_PFN_REQ_FAULT))
		return true;
	return !(req & HMM_PFN_REQ_WRITE) || (out & HMM_PFN_WRITE);
}

/* ---- 1. owner walks ------------------------------------------------------ */

/* hmm_range_fault() with @owner and no fault request: nothing can fault. */
static int owner_walk(struct p2p_fault *f, void *owner, unsigned long *pfns)
{
	struct hmm_range walk = *f->range;

	walk.hmm_pfns = pfns;
	walk.default_flags = 0;
	walk.pfn_flags_mask = 0;
	walk.dev_private_owner = owner;
	return hmm_range_fault(&walk);
}

/*
 * A valid slot from an owner walk: a device-private page to translate, an
 * ordinary page that answers the request, or one that still needs a fault
 * (a write to a read-only PTE). The struct page is read only for valid
 * slots, and the owner walk's pfn may be any device-private page (not only
 * one of a declared pagemap): each one is recognised here.
 */
static int sort_valid_slot(struct p2p_fault *f, unsigned long i)
{
	unsigned long out = f->range->hmm_pfns[i];

	if (is_device_private_page(hmm_pfn_to_page(out)))
		return mark(f, &f->dpriv, i);
	if (slot_satisfied(out, slot_request(f, i)))
		return 0;
	return mark(f, &f->todo, i);
}

/* Slots of the later owner walk (in f->tmp) that the earlier ones missed. */
static int merge_owner_walk(struct p2p_fault *f, unsigned long *missing)
{
	unsigned long *pfns = f->range->hmm_pfns;
	unsigned long i;
	int ret;

	for (i = 0; i < f->npages; i++) {
		if ((pfns[i] & HMM_PFN_VALID) || !(f->tmp[i] & HMM_PFN_VALID))
			continue;
		pfns[i] = (pfns[i] & HMM_P2P_PFN_STICKY) |
			  (f->tmp[i] & ~HMM_P2P_PFN_STICKY);
		(*missing)--;
		ret = sort_valid_slot(f, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int owner_walks(struct p2p_fault *f)
{
	unsigned long *pfns = f->range->hmm_pfns;
	unsigned long i, missing = 0;
	unsigned int o;
	int ret;

	ret = owner_walk(f, f->owners[0], pfns);
	if (ret)
		return ret;
	for (i = 0; i < f->npages; i++) {
		if (!(pfns[i] & HMM_PFN_VALID)) {
			missing++;
			continue;
		}
		ret = sort_valid_slot(f, i);
		if (ret)
			return ret;
	}

	/* Only a slot no walk found yet can be another owner's page. */
	for (o = 1; o < f->nr_owners && missing; o++) {
		if (!f->tmp) {
			f->tmp = kvcalloc(f->npages, sizeof(*f->tmp), GFP_KERNEL);
			if (!f->tmp)
				return -ENOMEM;
		}
		ret = owner_walk(f, f->owners[o], f->tmp);
		if (!ret)
			ret = merge_owner_walk(f, &missing);
		if (ret)
			return ret;
	}

	/*
	 * What no owner walk found: a page to fault, or, for a caller with
	 * device memory of its own, perhaps one of its own pages, which only
	 * a walk with its owner reports.
	 */
	for (i = 0; missing && i < f->npages; i++) {
		if (pfns[i] & HMM_PFN_VALID)
			continue;
		missing--;
		if (f->caller_owner || (slot_request(f, i) & HMM_PFN_REQ_FAULT)) {
			ret = mark(f, &f->todo, i);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- 2. translation ------------------------------------------------------ */

enum { REACH_UNKNOWN, REACH_YES, REACH_NO };

struct translation {
	const struct hmm_p2p_snapshot *snap;
	u8 reach[HMM_P2P_MAX_PROVIDERS];
};

/*
 * Can @client map @prov's aliases? A NULL client accesses memory with the
 * CPU (rdma_rxe, siw): P2PDMA pages are in the kernel's direct map. A DMA
 * client must be what the DMA mapping accepts: pci_p2pdma_map_type()
 * refuses any device that is not PCI (pci_p2pdma_distance() alone would
 * walk up to a PCI parent and say yes), then the topology decides. The
 * client therefore never receives an alias it cannot map.
 */
static bool client_reaches(struct p2p_fault *f, struct translation *t,
			   struct hmm_p2p_provider *prov)
{
	unsigned int p;

	for (p = 0; p < t->snap->nr_providers; p++)
		if (t->snap->providers[p] == prov)
			break;
	if (t->reach[p] == REACH_UNKNOWN) {
		bool ok = !f->client ||
			  (dev_is_pci(f->client) &&
			   dma_pci_p2pdma_supported(f->client) &&
			   pci_p2pdma_distance(prov->pdev, f->client, false) >= 0);

		t->reach[p] = ok ? REACH_YES : REACH_NO;
	}
	return t->reach[p] == REACH_YES;
}

/*
 * Reachability was decided for @prov's device: an alias must be a P2PDMA
 * page in one of that device's memory BARs, nothing else.
 */
static bool alias_in_provider_bar(const struct hmm_p2p_provider *prov,
				  unsigned long pfn)
{
	phys_addr_t phys = PFN_PHYS(pfn);
	int bar;

	if (!pfn_valid(pfn) || !is_pci_p2pdma_page(pfn_to_page(pfn)))
		return false;
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		resource_size_t start = pci_resource_start(prov->pdev, bar);

		if ((pci_resource_flags(prov->pdev, bar) & IORESOURCE_MEM) &&
		    phys >= start &&
		    phys - start < pci_resource_len(prov->pdev, bar))
			return true;
	}
	return false;
}

/* The registered provider with @owner, to charge a page that has no range. */
static struct hmm_p2p_provider *owner_provider(const struct hmm_p2p_snapshot *s,
					       void *owner)
{
	unsigned int p;

	for (p = 0; p < s->nr_providers; p++)
		if (s->providers[p]->owner == owner)
			return s->providers[p];
	return NULL;
}

/*
 * Alias the device-private page in slot @i, or return false: it then takes
 * the stock path (migrated if a fault was asked for).
 */
static bool alias_slot(struct p2p_fault *f, struct translation *t,
		       unsigned long i, unsigned long req)
{
	unsigned long *slot = &f->range->hmm_pfns[i], out = *slot, alias_pfn;
	struct page *page = hmm_pfn_to_page(out);
	struct dev_pagemap *pgmap = hmm_p2p_page_pgmap(page);
	const struct hmm_p2p_pfn_range *r;
	struct hmm_p2p_provider *prov;
	int ret;

	/* A pagemap nobody declared (or withdrew): never aliased. */
	r = hmm_p2p_snapshot_find(t->snap, page_to_pfn(page));
	if (!r || r->pgmap != pgmap) {
		prov = owner_provider(t->snap, pgmap->owner);
		hmm_p2p_count(prov, HMM_P2P_FALLBACK_UNDECLARED, 1);
		goto fallback;
	}
	prov = r->prov;

	/* A write fault on a read-only device PTE migrates, as stock. */
	if ((req & HMM_PFN_REQ_FAULT) && (req & HMM_PFN_REQ_WRITE) &&
	    !(out & HMM_PFN_WRITE))
		goto fallback;

	if (!client_reaches(f, t, prov)) {
		hmm_p2p_count(prov, HMM_P2P_FALLBACK_UNREACHABLE, 1);
		goto fallback;
	}

	ret = prov->alias(prov->priv, page, &alias_pfn);
	if (!ret && !alias_in_provider_bar(prov, alias_pfn)) {
		/* One line per provider; fallback_refused counts them all. */
		if (!xchg(&prov->warned_bad_alias, true))
			pr_err("provider %s returned pfn %#lx, not a P2PDMA page of its device %s: such aliases are refused\n",
			       prov->name, alias_pfn, pci_name(prov->pdev));
		ret = -EFAULT;
	}
	if (ret) {
		hmm_p2p_count(prov, HMM_P2P_FALLBACK_REFUSED, 1);
		goto fallback;
	}

	/* Order 0: the alias is reported page by page. */
	*slot = (out & HMM_P2P_PFN_STICKY) | alias_pfn | HMM_PFN_VALID |
		(out & HMM_PFN_WRITE);
	hmm_p2p_count(prov, HMM_P2P_ALIASES, 1);
	return true;

fallback:
	if (req & HMM_PFN_REQ_FAULT)
		hmm_p2p_count(prov, HMM_P2P_FAULTED, 1);
	return false;
}

/*
 * Alias what can be aliased. A page that cannot gets the stock answer: a
 * fault run if one was asked for, "not valid" otherwise (what
 * hmm_range_fault() reports for a device-private page it does not own).
 */
static int translate(struct p2p_fault *f)
{
	unsigned long *pfns = f->range->hmm_pfns, i;
	struct translation t = {};
	int idx;

	/* Allocated before the read section, which must stay short. */
	if (!f->todo) {
		f->todo = bitmap_zalloc(f->npages, GFP_KERNEL);
		if (!f->todo)
			return -ENOMEM;
	}

	t.snap = hmm_p2p_translate_begin(&idx);
	for_each_set_bit(i, f->dpriv, f->npages) {
		unsigned long req = slot_request(f, i);

		if (t.snap && hmm_p2p_enabled() && alias_slot(f, &t, i, req))
			continue;
		if (req & HMM_PFN_REQ_FAULT)
			__set_bit(i, f->todo);
		else
			pfns[i] &= HMM_P2P_PFN_STICKY;
	}
	hmm_p2p_translate_end(idx);
	return 0;
}

/* ---- 3. fault runs ------------------------------------------------------- */

/* Give the slots to fault their inputs back (the walks overwrote them). */
static void restore_inputs(struct p2p_fault *f)
{
	unsigned long *pfns = f->range->hmm_pfns, i;

	for_each_set_bit(i, f->todo, f->npages)
		pfns[i] = (pfns[i] & HMM_P2P_PFN_STICKY) |
			  (f->inputs ? f->inputs[i] & ~HMM_P2P_PFN_STICKY : 0);
}

/* The sub-range of the caller's range for slots [@a, @b). */
static struct hmm_range run_range(const struct p2p_fault *f, unsigned long a,
				  unsigned long b)
{
	struct hmm_range sub = *f->range;

	sub.start = f->range->start + (a << PAGE_SHIFT);
	sub.end = f->range->start + (b << PAGE_SHIFT);
	sub.hmm_pfns = f->range->hmm_pfns + a;
	sub.dev_private_owner = f->caller_owner;
	return sub;
}

/* Fault the slots in f->todo run by run; the caller holds the mmap lock. */
static int fault_runs_locked(struct p2p_fault *f)
{
	unsigned long a, b;
	int ret;

	for_each_set_bitrange(a, b, f->todo, f->npages) {
		struct hmm_range sub = run_range(f, a, b);

		ret = hmm_range_fault(&sub);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- the entry points ---------------------------------------------------- */

static bool range_valid(const struct hmm_range *range)
{
	return range && range->notifier && range->hmm_pfns &&
	       range->start < range->end && PAGE_ALIGNED(range->start) &&
	       PAGE_ALIGNED(range->end);
}

/*
 * Set @f up for @range; false when no foreign provider is registered (or
 * P2P is disabled): the stock function then does everything.
 */
static int p2p_fault_init(struct p2p_fault *f, struct hmm_range *range,
			  struct device *client)
{
	memset(f, 0, sizeof(*f));
	f->range = range;
	f->client = client;
	f->caller_owner = range->dev_private_owner;
	f->npages = (range->end - range->start) >> PAGE_SHIFT;
	hmm_p2p_count(NULL, HMM_P2P_WALKS, 1);
	hmm_p2p_count(NULL, HMM_P2P_PAGES, f->npages);
	if (!hmm_p2p_enabled())
		return 0;
	f->nr_owners = hmm_p2p_foreign_owners(f->caller_owner, f->owners);
	return f->nr_owners;
}

/*
 * Steps 1 and 2, with the mmap lock held: afterwards every slot is final
 * except those in f->todo (which may be NULL). The walks overwrite the
 * per-slot requests, so they are saved first.
 */
static int owner_walks_and_translate(struct p2p_fault *f)
{
	struct hmm_range *range = f->range;
	int ret;

	if (range->pfn_flags_mask & HMM_P2P_PFN_REQ_MASK) {
		f->inputs = kvmalloc_array(f->npages, sizeof(*f->inputs),
					   GFP_KERNEL);
		if (!f->inputs)
			return -ENOMEM;
		memcpy(f->inputs, range->hmm_pfns,
		       f->npages * sizeof(*f->inputs));
	}
	ret = owner_walks(f);
	if (!ret && f->dpriv)
		ret = translate(f);
	if (!ret && f->todo)
		restore_inputs(f);
	return ret;
}

static bool has_todo(const struct p2p_fault *f)
{
	return f->todo && !bitmap_empty(f->todo, f->npages);
}

int hmm_p2p_range_fault(struct hmm_range *range, struct device *client)
{
	struct p2p_fault f;
	int ret;

	if (!range_valid(range))
		return -EINVAL;
	if (!p2p_fault_init(&f, range, client))
		return hmm_range_fault(range);

	ret = owner_walks_and_translate(&f);
	if (!ret && has_todo(&f))
		ret = fault_runs_locked(&f);
	else if (!ret && mmu_interval_check_retry(range->notifier,
						  range->notifier_seq))
		ret = -EBUSY;
	p2p_fault_free(&f);
	return ret;
}
EXPORT_SYMBOL_GPL(hmm_p2p_range_fault);

#ifdef HMM_P2P_HAVE_HMM_RANGE_FAULT_UNLOCKED_TIMEOUT
/*
 * The fault runs of the unlocked variant: each run goes to the kernel's
 * hmm_range_fault_unlocked_timeout(), which may let handle_mm_fault() drop
 * the mmap lock (userfaultfd needs that) and honours fatal signals, exactly
 * as for any caller of it. It refreshes the run's notifier_seq as it
 * retries; the aliases were found under range->notifier_seq, so that is
 * checked again once the runs are done.
 */
static int fault_runs_unlocked(struct p2p_fault *f, unsigned long timeout)
{
	unsigned long a, b;
	int ret;

	for_each_set_bitrange(a, b, f->todo, f->npages) {
		struct hmm_range sub = run_range(f, a, b);

		ret = hmm_range_fault_unlocked_timeout(&sub, timeout);
		if (ret)
			return ret;
	}
	return mmu_interval_check_retry(f->range->notifier,
					f->range->notifier_seq) ? -EBUSY : 0;
}

/*
 * One pass: sample the sequence, owner walks and translation under the
 * mmap lock (taken killable, as the stock function does), then the fault
 * runs without it.
 */
static int unlocked_pass(struct p2p_fault *f, unsigned long timeout)
{
	struct hmm_range *range = f->range;
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	range->notifier_seq = mmu_interval_read_begin(range->notifier);
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	if (check_stable_address_space(mm)) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	ret = owner_walks_and_translate(f);
	mmap_read_unlock(mm);
	if (ret)
		return ret;
	if (has_todo(f))
		return fault_runs_unlocked(f, timeout);
	return mmu_interval_check_retry(range->notifier, range->notifier_seq) ?
		-EBUSY : 0;
}

static int p2p_fault_unlocked(struct hmm_range *range, unsigned long timeout,
			      struct device *client)
{
	unsigned long deadline = jiffies + timeout;
	struct p2p_fault f;
	int ret;

	if (!p2p_fault_init(&f, range, client))
		return hmm_range_fault_unlocked_timeout(range, timeout);
	for (;;) {
		ret = unlocked_pass(&f, timeout);
		p2p_fault_free(&f);
		if (ret != -EBUSY)
			return ret;
		/* As the stock loop: fatal signals end it, timeout bounds it. */
		if (fatal_signal_pending(current))
			return -EINTR;
		if (timeout && time_after(jiffies, deadline))
			return -EBUSY;
		if (!p2p_fault_init(&f, range, client))
			return hmm_range_fault_unlocked_timeout(range, timeout);
	}
}
#else
/* No lock-dropping fault in this kernel: the locked walk, retried. */
static int p2p_fault_unlocked(struct hmm_range *range, unsigned long timeout,
			      struct device *client)
{
	struct mm_struct *mm = range->notifier->mm;
	unsigned long deadline = jiffies + timeout;
	int ret;

	do {
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		ret = mmap_read_lock_killable(mm);
		if (ret)
			return ret;
		if (check_stable_address_space(mm)) {
			mmap_read_unlock(mm);
			return -EFAULT;
		}
		ret = hmm_p2p_range_fault(range, client);
		mmap_read_unlock(mm);
		if (ret == -EBUSY && fatal_signal_pending(current))
			return -EINTR;
	} while (ret == -EBUSY && !(timeout && time_after(jiffies, deadline)));
	return ret;
}
#endif

int hmm_p2p_range_fault_unlocked_timeout(struct hmm_range *range,
					 unsigned long timeout,
					 struct device *client)
{
	if (!range_valid(range))
		return -EINVAL;
	return p2p_fault_unlocked(range, timeout, client);
}
EXPORT_SYMBOL_GPL(hmm_p2p_range_fault_unlocked_timeout);
