// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_range_fault(): hmm_range_fault() that answers device-private pages
 * of registered providers with P2P aliases. No mm/hmm.c internals are
 * copied; it is built from the exported hmm_range_fault() in three steps:
 *
 *  1. Owner walks: hmm_range_fault() with no fault request and
 *     dev_private_owner set to each foreign owner in turn, into arrays of
 *     our own. They never fault, so nothing migrates and the mmap lock is
 *     never dropped. Online memory is told apart without touching a struct
 *     page (pfn_to_online_page()); for present RAM that is the answer.
 *  2. Translation: each ZONE_DEVICE pfn found is sorted while its pagemap
 *     is known to be alive (a declared range, or a live reference), and a
 *     device-private page is aliased when its pagemap is declared, the
 *     client can map the provider's BAR and the provider agrees. Only this
 *     step reads the registry (registry.c): a walk that blocks (a stalled
 *     file, an unanswered userfaultfd) holds nothing that a provider change
 *     would wait for.
 *  3. Fault runs: the slots that are not final (pages to fault, device-
 *     private pages that cannot be aliased, whatever an owner walk did not
 *     see) are walked with the caller's own flags and owner, run by run.
 *     hmm faults every address from the first page that needs it to the
 *     end of its walk; runs keep that from reaching (and migrating) an
 *     aliasable page next to such a page.
 *
 * The caller's array is written with final answers only, each one a value
 * hmm_range_fault() could store there or an alias: for ODP it is the NIC's
 * live mirror, read under the consumer's lock while we fault. Stores land
 * in chunks of a few dozen slots, each right after a sequence check with
 * preemption off (an invalidation can race with one chunk, as it races
 * with the store in flight of the stock walk): the leading plain-memory
 * slots as soon as the first walk has them, which precede every slot that
 * can still fail (a pass that fails before its fault runs leaves stored
 * only those, as the stock walk leaves stored only what precedes the
 * address that failed), everything else once the pass is complete
 * (publish()); the fault runs store what the stock walk stores. An answer
 * that would take HMM_PFN_VALID or write access from a slot goes in only
 * over what the slot held when the pass's first walk began (seen[]): a
 * concurrent fault may have stored a fresher one since, with no
 * invalidation to tell.
 *
 * Every walk uses the caller's notifier_seq, so an invalidation between
 * them makes the next one (or the caller's mmu_interval_read_retry()) fail
 * with -EBUSY, as with hmm_range_fault(). A slot that leaves here holds
 * exactly what hmm_range_fault() would have put there, or an alias inside
 * the BAR of the provider that owns the page, which the client can map (or,
 * without a fault request, the alias the caller has mapped there, or "not
 * valid" for a ZONE_DEVICE page whose pagemap is going: sort_undeclared()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/memory_hotplug.h>
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
		 "Answer device-private pages with P2P aliases (default Y); N makes hmm_p2p_range_fault() behave like hmm_range_fault(), except that aliases a device mapped stay mapped until invalidated");

bool hmm_p2p_enabled(void)
{
	return READ_ONCE(enable);
}

/*
 * What a pass learnt of the memory sections its pfns lie in, direct-mapped
 * by section number: a range's pages come from a few sections, each of
 * them 2 MiB subsection by subsection in any order. 16 sections: with 8,
 * two sections 1 GiB apart evicted each other page after page in a
 * buffer of the demo (1.26-1.40 against 1.07-1.12, docs/benchmarks.md).
 * Keys are 32 bits to keep the frame small; a section number that does
 * not fit is never kept.
 */
#define PLAIN_SECTIONS 16

struct plain_sections {
	u32 nr_plus_1[PLAIN_SECTIONS];	/* section number + 1; 0: none yet */
	unsigned long map[PLAIN_SECTIONS];	/* hmm_p2p_plain_subsections() */
};

struct p2p_fault {
	struct hmm_range *range;
	struct device *client;
	void *caller_owner;
	unsigned long npages;
	unsigned int nr_owners;
	void *owners[HMM_P2P_MAX_PROVIDERS];
	unsigned long *inputs;	/* the caller's slots on entry, if it asks per slot */
	unsigned long *out;	/* what the owner walks found: never the caller's array */
	unsigned long *seen;	/* the caller's slots as the pass's first walk began */
	unsigned long *tmp;	/* the second and later owner walks */
	unsigned long *zdev;	/* slots of out[] on a ZONE_DEVICE pfn: sorted in translation */
	unsigned long *todo;	/* slots for the fault runs */
	unsigned long todo_n;	/* bits set in todo */
	unsigned long todo_min;	/* fewest of any pass that reached its runs */
	unsigned long plain_lo;	/* [plain_lo, +plain_len): the latest run */
	unsigned long plain_len;	/* of pfns found to be plain memory */
	struct plain_sections plain;
	unsigned long stored;	/* slots [0, stored) are stored already */
	int out_pooled;		/* out[] is walk_pool[out_pooled]'s array, or -1 */
	int seen_pooled;	/* the same for seen[] */
	bool reached_runs;	/* this pass sorted every slot */
	bool conflict;		/* this pass left a slot it could not decide */
	bool redone;		/* the call ran its one pass again for that */
	bool own_walk;		/* walk with caller_owner after the foreign ones */
};

/*
 * Set once an alias has been handed out: from then on the stock function
 * is never used in place of a pass, because only a pass keeps a mapped
 * alias slot mapped (publish()), whatever the registry holds by then.
 */
static bool aliases_handed_out;

bool hmm_p2p_aliases_handed_out(void)
{
	return READ_ONCE(aliases_handed_out);
}
EXPORT_SYMBOL_GPL(hmm_p2p_aliases_handed_out);

/*
 * Forget what was learnt of memory sections: at each pass and before each
 * later owner walk, whose pfns the first walk's sequence does not cover
 * (memory hot-add sets a section's subsections present before it marks
 * the section as shared with device memory, so a look in between would
 * take new device subsections for RAM until the next look).
 */
static void plain_forget(struct p2p_fault *f)
{
	f->plain_len = 0;
	memset(f->plain.nr_plus_1, 0, sizeof(f->plain.nr_plus_1));
}

/* What one pass built; the call's inputs and arrays stay. */
static void p2p_pass_reset(struct p2p_fault *f)
{
	kvfree(f->zdev);
	kvfree(f->todo);
	f->zdev = NULL;
	f->todo = NULL;
	f->todo_n = 0;
	plain_forget(f);
	f->stored = 0;
	f->reached_runs = false;
	f->conflict = false;
}

/* ---- the first walk's array -------------------------------------------- */

/*
 * Every pass walks into an array of its own first (out[]), after copying
 * the caller's slots into another (seen[], see publish_slot()). Allocating
 * and freeing such an array per call cost about 10% of the whole fault on
 * a range of 4-8 MiB of present RAM under TCG (faultbench pinned to one
 * vCPU, pooled and allocated runs alternating: 1.05-1.09 against 1.15-1.19
 * at 4 MiB, docs/benchmarks.md), so a few arrays for ranges up to
 * WALK_POOL_PAGES are kept for the module's life: WALK_POOL_NR of them,
 * up to two per call (one when every slot asks for a write fault), the
 * kernel's own memory (128 KiB in all with 8-byte
 * slots), never charged to a caller. A larger range, or a call that finds
 * none free (a fault that blocks keeps its arrays), allocates its own as
 * before, charged to the calling task's memory cgroup: nobody ever waits
 * for the pool.
 */
#define WALK_POOL_NR 8
#define WALK_POOL_PAGES 2048

/* A slot is NULL while its array is in use; one cache line each. */
struct walk_pool_slot {
	unsigned long *array;
} ____cacheline_aligned_in_smp;

static struct walk_pool_slot walk_pool[WALK_POOL_NR];

/*
 * Take a free pooled array into *@a, this CPU's pair of slots first; -1 if
 * none is free.
 */
static int walk_pool_take(struct p2p_fault *f, unsigned long **a)
{
	unsigned int first = raw_smp_processor_id() * 2, k;

	if (f->npages > WALK_POOL_PAGES)
		return -1;
	for (k = 0; k < WALK_POOL_NR; k++) {
		unsigned int i = (first + k) % WALK_POOL_NR;

		if (!READ_ONCE(walk_pool[i].array))
			continue;
		*a = xchg(&walk_pool[i].array, NULL);
		if (*a)
			return i;
	}
	return -1;
}

static void walk_array_free(unsigned long **a, int *pooled)
{
	if (*pooled < 0) {
		kvfree(*a);
	} else {
		/*
		 * Only the holder refills the slot it emptied; the release
		 * orders this call's last use of the array before the next
		 * taker's xchg().
		 */
		smp_store_release(&walk_pool[*pooled].array, *a);
	}
	*a = NULL;
	*pooled = -1;
}

int hmm_p2p_walk_pool_init(void)
{
	int i;

	for (i = 0; i < WALK_POOL_NR; i++) {
		walk_pool[i].array = kvmalloc_array(WALK_POOL_PAGES,
						    sizeof(unsigned long),
						    GFP_KERNEL);
		if (!walk_pool[i].array) {
			hmm_p2p_walk_pool_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

/* No call is in flight: every user of the core holds a reference to it. */
void hmm_p2p_walk_pool_exit(void)
{
	int i;

	for (i = 0; i < WALK_POOL_NR; i++) {
		kvfree(walk_pool[i].array);
		walk_pool[i].array = NULL;
	}
}

static void p2p_fault_free(struct p2p_fault *f)
{
	p2p_pass_reset(f);
	kvfree(f->inputs);
	f->inputs = NULL;
	walk_array_free(&f->out, &f->out_pooled);
	walk_array_free(&f->seen, &f->seen_pooled);
	kvfree(f->tmp);
	f->tmp = NULL;
}

/*
 * The per-call arrays are as long as the range (an MR can span hundreds of
 * GiB): kvmalloc, not kmalloc, and charged to the caller's memory cgroup
 * (all but a pooled first-walk array, above).
 */
static unsigned long *alloc_bitmap(const struct p2p_fault *f)
{
	return kvcalloc(BITS_TO_LONGS(f->npages), sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT);
}

/* Set bit @i of *@bitmap, allocating it on first use: RAM needs none. */
static int mark(struct p2p_fault *f, unsigned long **bitmap, unsigned long i)
{
	if (!*bitmap) {
		*bitmap = alloc_bitmap(f);
		if (!*bitmap)
			return -ENOMEM;
	}
	if (!__test_and_set_bit(i, *bitmap) && bitmap == &f->todo)
		f->todo_n++;
	return 0;
}

/*
 * The run of plain subsections of section @nr around @pfn's (set in @map),
 * as [f->plain_lo, +f->plain_len).
 */
static void plain_run_set(struct p2p_fault *f, unsigned long nr,
			  unsigned long map, unsigned long pfn)
{
	unsigned int idx = subsection_map_index(pfn) % BITS_PER_LONG;
	unsigned int first, end;
	unsigned long above = ~map >> idx;
	unsigned long below = ~map & (BIT(idx) - 1);

	end = above ? idx + __ffs(above) : BITS_PER_LONG;
	first = below ? __fls(below) + 1 : 0;
	f->plain_lo = section_nr_to_pfn(nr) + first * PAGES_PER_SUBSECTION;
	f->plain_len = (end - first) * PAGES_PER_SUBSECTION;
}

/* Is @pfn in a plain subsection of a section this pass has looked at? */
static __always_inline bool plain_section_known(const struct p2p_fault *f,
						unsigned long pfn)
{
	unsigned long nr = pfn_to_section_nr(pfn);
	unsigned int k = nr % PLAIN_SECTIONS;

	return f->plain.nr_plus_1[k] == nr + 1 &&
	       (f->plain.map[k] & BIT(subsection_map_index(pfn) % BITS_PER_LONG));
}

/*
 * Ordinary online memory, told without reading a struct page: a present
 * subsection of a section that holds only online RAM, pfn_to_online_page()
 * otherwise. Each section is looked at once per walk's pfns (plain_forget();
 * what a look finds stays true of those pfns, as they stay mapped, until
 * the caller's sequence check), and the latest run of plain subsections
 * is checked first: under TCG one look at mem_section costs about as much
 * as hmm's walk of a page (80-85 ns), and a range's pages often change
 * subsection page after page (docs/benchmarks.md, "Fault overhead").
 */
static bool pfn_online_memory(struct p2p_fault *f, unsigned long pfn)
{
	unsigned long nr = pfn_to_section_nr(pfn), map;
	unsigned int k = nr % PLAIN_SECTIONS;

	if (pfn - f->plain_lo < f->plain_len)
		return true;
	if (f->plain.nr_plus_1[k] == nr + 1) {
		map = f->plain.map[k];
	} else {
		map = hmm_p2p_plain_subsections(nr);
		if (nr < U32_MAX) {
			f->plain.nr_plus_1[k] = nr + 1;
			f->plain.map[k] = map;
		}
	}
	/* A map is 0 where a section has more subsections than it has bits. */
	if (map & BIT(subsection_map_index(pfn) % BITS_PER_LONG)) {
		plain_run_set(f, nr, map, pfn);
		return true;
	}
	return pfn_to_online_page(pfn);
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

/*
 * The caller's array is a consumer's live mirror (ib_umem_odp's pfn list is
 * read under its own lock while we fault): only final answers go there,
 * each one a value hmm_range_fault() itself could store, or an alias, and
 * only from a pass whose notifier sequence still holds, chunk by chunk
 * right after checking it (a store computed before an invalidation would
 * otherwise land after the consumer cleared the slot). out[] holds the
 * final answer of every slot that is not in todo (the fault runs answer
 * those themselves, as the stock function does).
 *
 * One exception to "the stock answer": a "not valid" answer for a slot
 * without a fault request leaves a slot that the consumer has mapped
 * (HMM_PFN_VALID and HMM_PFN_DMA_MAPPED: set under the consumer's lock
 * after its sequence check, cleared by every invalidation) as it is. For a
 * page still in device memory that slot is an alias handed out earlier,
 * valid until the consumer's invalidation (hmm_p2p.h: a window goes only
 * after every mirror of its pages was invalidated); turning it not valid
 * would hide a live device mapping from the consumer's invalidation, which
 * unmaps valid slots only. Any other valid slot gets the stock answer (an
 * answer that weakens it only if the slot is what it was before the first
 * walk, publish_slot(), else in one more pass, pass_redo()), so a stale
 * store (the stock walk's own, or a consumer's) is repaired by the next
 * walk as it is without hmm-p2p.
 */
static bool slot_mapped(unsigned long slot)
{
	unsigned long mapped = HMM_PFN_VALID | HMM_P2P_PFN_MAPPED;

	return HMM_P2P_PFN_MAPPED && (slot & mapped) == mapped;
}

/*
 * Stores land at most this many slots after a sequence check, with
 * preemption off in between: an invalidation that a check missed races
 * with the stores of one chunk, as it races with the one store in flight
 * of the stock walk, never with a loop as long as the range. A check that
 * fails ends the pass with -EBUSY; what was stored before it is repaired
 * by the retry, as the stock walk's stores are.
 */
#define PUBLISH_CHUNK 64

/* Open a chunk of stores; false when the sequence moved. */
static bool chunk_begin(const struct p2p_fault *f)
{
	preempt_disable();
	if (!mmu_interval_check_retry(f->range->notifier,
				      f->range->notifier_seq))
		return true;
	preempt_enable();
	return false;
}

static void chunk_end(void)
{
	preempt_enable();
}

/* Would @answer take HMM_PFN_VALID, or write access to its page, from @s? */
static bool answer_weakens(unsigned long s, unsigned long answer)
{
	if (!(s & HMM_PFN_VALID))
		return false;
	if (!(answer & HMM_PFN_VALID))
		return true;
	return (s & HMM_PFN_WRITE) && !(answer & HMM_PFN_WRITE) &&
	       hmm_p2p_pfn_of(s) == hmm_p2p_pfn_of(answer);
}

/*
 * Store @v into slot @i with the slot's own sticky flags; a slot that
 * already holds its answer (a fault over pages mapped before) is not
 * written again. @v is what the pass's first walk saw. A fault on the same
 * range may have stored a fresher answer since, with no invalidation (a
 * page faulted in, a PTE made writable in place raise none; the stock walk
 * stores each answer right after reading its PTE), so an answer that
 * would take HMM_PFN_VALID or write access from the slot goes in only
 * where the slot is still what it was when the walk began (@seen), by
 * compare and swap: as if it had been stored at walk time. A slot that
 * changed since then may as well hold a stale store (a walker delayed
 * across an invalidation) as a fresher answer: it is left, and false tells
 * the caller that the pass could not decide it (pass_redo()). Without
 * @seen (a write fault asked of every slot: every answer published then
 * is valid and writable, see need_seen()), nothing can weaken a slot.
 */
static __always_inline bool publish_slot(unsigned long *slots,
					 const unsigned long *seen,
					 unsigned long i, unsigned long v)
{
	unsigned long s = READ_ONCE(slots[i]);
	unsigned long answer = (s & HMM_P2P_PFN_STICKY) |
			       (v & ~HMM_P2P_PFN_STICKY);

	if (answer == s)
		return true;
	if (!answer_weakens(s, answer) || !seen)
		WRITE_ONCE(slots[i], answer);
	else if (s != seen[i] || cmpxchg(&slots[i], s, answer) != s)
		return false;
	return true;
}

/* Every slot not stored yet, once the pass is complete. */
static int publish(struct p2p_fault *f)
{
	unsigned long *slots = f->range->hmm_pfns, i, end;

	for (i = f->stored; i < f->npages; i = end) {
		end = min(i + PUBLISH_CHUNK, f->npages);
		if (!chunk_begin(f))
			return -EBUSY;
		for (; i < end; i++) {
			unsigned long v = f->out[i];

			if (f->todo && test_bit(i, f->todo))
				continue;
			if (!(v & HMM_PFN_VALID) && slot_mapped(slots[i]))
				continue;
			if (!publish_slot(slots, f->seen, i, v))
				f->conflict = true;
		}
		chunk_end();
	}
	f->stored = f->npages;
	return 0;
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
 * An ordinary page (RAM, ZONE_DEVICE memory that is not device-private, or
 * the caller's own device-private page): out[@i] is the answer, unless the
 * request needs a fault.
 */
static int settle_ordinary(struct p2p_fault *f, unsigned long i)
{
	if (!slot_satisfied(f->out[i], slot_request(f, i)))
		return mark(f, &f->todo, i);
	return 0;
}

/*
 * A valid slot of an owner walk. Online memory is ordinary, told without
 * touching its struct page; a ZONE_DEVICE pfn (device-private or other) is
 * sorted during translation, where its pagemap is known to be alive.
 */
static int sort_valid_slot(struct p2p_fault *f, unsigned long i)
{
	if (pfn_online_memory(f, hmm_p2p_pfn_of(f->out[i])))
		return settle_ordinary(f, i);
	return mark(f, &f->zdev, i);
}

/*
 * Slots of a later owner walk (in f->tmp) that the earlier ones missed. The
 * caller's own walk (@own) finds nothing but the caller's own device-private
 * pages, answered as the stock function answers them.
 */
static int merge_owner_walk(struct p2p_fault *f, unsigned long *missing,
			    bool own)
{
	unsigned long i;
	int ret;

	for (i = 0; i < f->npages; i++) {
		if ((f->out[i] & HMM_PFN_VALID) || !(f->tmp[i] & HMM_PFN_VALID))
			continue;
		f->out[i] = f->tmp[i];
		(*missing)--;
		ret = own ? settle_ordinary(f, i) : sort_valid_slot(f, i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * hmm stores every slot of a walk that succeeds (all but the sticky flags,
 * which are never copied from here): no need to clear the array.
 */
static int alloc_walk_array(struct p2p_fault *f, unsigned long **a)
{
	if (!*a)
		*a = kvmalloc_array(f->npages, sizeof(**a), GFP_KERNEL_ACCOUNT);
	return *a ? 0 : -ENOMEM;
}

/*
 * The common case of the first owner walk, kept tight because it is the
 * whole cost on ordinary memory: one request for every slot (ODP's), and
 * valid slots of plain online memory that answer it are final as they are.
 * From slot @i on, up to @n: the first slot that is not such a slot. With
 * @store, each one is stored as it settles (the caller opened a chunk).
 * The loop works on locals: a store into the caller's array could alias
 * any field of @f, which would otherwise be reloaded per slot.
 */
static __always_inline unsigned long
settle_plain_slots(struct p2p_fault *f, unsigned long i, unsigned long n,
		   bool store)
{
	unsigned long req = f->inputs ? 0 : slot_request(f, 0);
	unsigned long need = HMM_PFN_VALID;
	const unsigned long *out = f->out, *seen = f->seen;
	unsigned long *slots = f->range->hmm_pfns;
	unsigned long lo = f->plain_lo, len = f->plain_len;

	if (f->inputs)
		return i;
	if ((req & HMM_PFN_REQ_FAULT) && (req & HMM_PFN_REQ_WRITE))
		need |= HMM_PFN_WRITE;
	for (; i < n; i++) {
		unsigned long v = out[i], pfn = hmm_p2p_pfn_of(v);

		if ((v & need) != need)
			break;
		if (pfn - lo >= len && !plain_section_known(f, pfn)) {
			if (!pfn_online_memory(f, pfn))
				break;
			lo = f->plain_lo;
			len = f->plain_len;
		}
		if (store && unlikely(!publish_slot(slots, seen, i, v)))
			f->conflict = true;
	}
	return i;
}

/*
 * The leading plain slots are final as soon as the first walk has them:
 * they are stored at once, chunk by chunk, up to the first slot that needs
 * more work. Every slot that can still fail (a fault run) or wait (an
 * allocation, translation) lies after them, so a pass that fails before
 * its fault runs leaves stored only answers below every slot that could
 * fail, as the stock walk does; everything after waits for publish(). A
 * range of plain memory (the common case) is done here.
 */
static int store_plain_prefix(struct p2p_fault *f)
{
	unsigned long i = 0, end;

	while (i < f->npages) {
		end = min(i + PUBLISH_CHUNK, f->npages);
		if (!chunk_begin(f))
			return -EBUSY;
		i = settle_plain_slots(f, i, end, true);
		chunk_end();
		if (i < end)
			break;
	}
	f->stored = i;
	return 0;
}

/*
 * Can a pass publish an answer that weakens a slot? Not when every slot
 * asks for a write fault: publish() and the plain prefix then store only
 * valid, writable answers (a slot that is not, or a read-only alias, goes
 * to the fault runs, which store what the stock walk stores).
 */
static bool need_seen(const struct p2p_fault *f)
{
	const unsigned long wf = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;

	return f->inputs || (f->range->default_flags & wf) != wf;
}

/*
 * Before the first walk: what publish_slot() compares with. Word by word,
 * not memcpy(): under TCG the kernel's "rep movsb" costs as much as the
 * walk itself (12-15 points of faultbench, docs/benchmarks.md), and each
 * slot may be written meanwhile.
 */
static void snapshot_slots(struct p2p_fault *f)
{
	const unsigned long *slots = f->range->hmm_pfns;
	unsigned long i;

	for (i = 0; i < f->npages; i++)
		f->seen[i] = READ_ONCE(slots[i]);
	/*
	 * A fresher slot seen here must have its PTE seen by the walk (the
	 * fault stored the slot after its PTE); orders the loads where the
	 * CPU would not (a compiler barrier on x86).
	 */
	smp_rmb();
}

static int owner_walks(struct p2p_fault *f)
{
	unsigned long i, missing = 0;
	unsigned int o;
	int ret;

	if (!f->out)
		f->out_pooled = walk_pool_take(f, &f->out);
	ret = alloc_walk_array(f, &f->out);
	if (!ret && need_seen(f)) {
		if (!f->seen)
			f->seen_pooled = walk_pool_take(f, &f->seen);
		ret = alloc_walk_array(f, &f->seen);
		if (!ret)
			snapshot_slots(f);
	}
	if (ret)
		return ret;
	ret = owner_walk(f, f->owners[0], f->out);
	if (ret)
		return ret;
	ret = store_plain_prefix(f);
	if (ret)
		return ret;
	for (i = f->stored; i < f->npages;
	     i = settle_plain_slots(f, i + 1, f->npages, false)) {
		if (!(f->out[i] & HMM_PFN_VALID)) {
			missing++;
			continue;
		}
		ret = sort_valid_slot(f, i);
		if (ret)
			return ret;
	}

	/*
	 * Only a slot no walk found yet can be another owner's page; the
	 * caller's own device-private pages come last, from a walk with its
	 * own owner.
	 */
	for (o = 1; o <= f->nr_owners && missing; o++) {
		bool own = o == f->nr_owners;

		if (own && !f->own_walk)
			break;
		ret = alloc_walk_array(f, &f->tmp);
		if (!ret)
			ret = owner_walk(f, own ? f->caller_owner : f->owners[o],
					 f->tmp);
		plain_forget(f);
		if (!ret)
			ret = merge_owner_walk(f, &missing, own);
		if (ret)
			return ret;
	}

	/*
	 * What no owner walk found: a page to fault, or exactly what the
	 * stock walk without a fault request reports (0, or HMM_PFN_ERROR),
	 * which out[] holds already.
	 */
	for (i = 0; missing && i < f->npages; i++) {
		if (f->out[i] & HMM_PFN_VALID)
			continue;
		missing--;
		if (slot_request(f, i) & HMM_PFN_REQ_FAULT) {
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

/*
 * The registered provider with @owner, to charge a page that has no range;
 * NULL (counted in the totals only) when several devices share @owner, as
 * nothing says which of them the page belongs to.
 */
static struct hmm_p2p_provider *owner_provider(const struct hmm_p2p_snapshot *s,
					       void *owner)
{
	struct hmm_p2p_provider *found = NULL;
	unsigned int p;

	for (p = 0; p < s->nr_providers; p++) {
		if (s->providers[p]->owner != owner)
			continue;
		if (found)
			return NULL;
		found = s->providers[p];
	}
	return found;
}

/* The alias of the page in out[@i] (of a declared range of @prov), or 0. */
static unsigned long alias_of(struct p2p_fault *f, struct translation *t,
			      struct hmm_p2p_provider *prov, unsigned long i,
			      unsigned long req)
{
	unsigned long out = f->out[i], alias_pfn;
	int ret;

	/* A write fault on a read-only device PTE migrates, as stock. */
	if ((req & HMM_PFN_REQ_FAULT) && (req & HMM_PFN_REQ_WRITE) &&
	    !(out & HMM_PFN_WRITE))
		return 0;

	if (!client_reaches(f, t, prov)) {
		hmm_p2p_count(prov, HMM_P2P_FALLBACK_UNREACHABLE, 1);
		return 0;
	}

	ret = prov->alias(prov->priv, hmm_pfn_to_page(out), &alias_pfn);
	if (!ret && !alias_in_provider_bar(prov, alias_pfn)) {
		/* One line per provider; fallback_refused counts them all. */
		if (!xchg(&prov->warned_bad_alias, true))
			pr_err("provider %s returned pfn %#lx, not a P2PDMA page of its device %s: such aliases are refused\n",
			       prov->name, alias_pfn, pci_name(prov->pdev));
		ret = -EFAULT;
	}
	if (ret) {
		hmm_p2p_count(prov, HMM_P2P_FALLBACK_REFUSED, 1);
		return 0;
	}
	hmm_p2p_count(prov, HMM_P2P_ALIASES, 1);
	if (!READ_ONCE(aliases_handed_out))
		WRITE_ONCE(aliases_handed_out, true);
	return alias_pfn;
}

/*
 * A device-private page that is not aliased gets the stock answer: a fault
 * run if one was asked for, "not valid" otherwise (HMM_PFN_ERROR where hmm
 * reports a foreign device-private PMD, 0 for a PTE).
 */
static int device_private_fallback(struct p2p_fault *f,
				   struct hmm_p2p_provider *prov,
				   unsigned long i, unsigned long req)
{
	if (req & HMM_PFN_REQ_FAULT) {
		hmm_p2p_count(prov, HMM_P2P_FAULTED, 1);
		return mark(f, &f->todo, i);
	}
	f->out[i] = hmm_pfn_to_map_order(f->out[i]) ? HMM_PFN_ERROR : 0;
	return 0;
}

/*
 * A ZONE_DEVICE pfn outside every declared range: its pagemap is looked up
 * with a live reference before anything of it is read (the page may have
 * been freed, and its pagemap unmapped, since the walk saw it). Without a
 * live pagemap nothing can be said of the pfn: a fault request goes to a
 * stock run; without one the answer is "not valid" (where the stock walk
 * might say HMM_PFN_ERROR, or valid for a ZONE_DEVICE page that is not
 * device-private: both "not valid" to every consumer, and safe for a page
 * whose pagemap is going).
 */
static int sort_undeclared(struct p2p_fault *f, struct translation *t,
			   unsigned long i, unsigned long req)
{
	struct dev_pagemap *pgmap;
	struct hmm_p2p_provider *prov;

	pgmap = hmm_p2p_get_dev_pagemap(hmm_p2p_pfn_of(f->out[i]));
	if (!pgmap) {
		/*
		 * A pagemap going away: a fault run answers a fault request.
		 * Without one, "not valid" goes through publish(), which
		 * keeps a slot the consumer has mapped (a run would not).
		 */
		if (req & HMM_PFN_REQ_FAULT)
			return mark(f, &f->todo, i);
		f->out[i] = 0;
		return 0;
	}
	if (pgmap->type != MEMORY_DEVICE_PRIVATE) {
		put_dev_pagemap(pgmap);
		return settle_ordinary(f, i);
	}
	/* A registered owner's pagemap that nobody declared: never aliased. */
	prov = owner_provider(t->snap, pgmap->owner);
	put_dev_pagemap(pgmap);
	hmm_p2p_count(prov, HMM_P2P_FALLBACK_UNDECLARED, 1);
	return device_private_fallback(f, prov, i, req);
}

/* Sort and alias the ZONE_DEVICE slots; called in a translation section. */
static int translate_slot(struct p2p_fault *f, struct translation *t,
			  unsigned long i)
{
	unsigned long pfn = hmm_p2p_pfn_of(f->out[i]), req, alias_pfn;
	const struct hmm_p2p_pfn_range *r;

	req = slot_request(f, i);
	/*
	 * In a declared range: a page of that live device-private pagemap
	 * (withdrawing it waits for this section).
	 */
	r = hmm_p2p_snapshot_find(t->snap, pfn);
	if (!r)
		return sort_undeclared(f, t, i, req);
	alias_pfn = hmm_p2p_enabled() ? alias_of(f, t, r->prov, i, req) : 0;
	if (!alias_pfn)
		return device_private_fallback(f, r->prov, i, req);
	/* Order 0: the alias is reported page by page. */
	f->out[i] = alias_pfn | HMM_PFN_VALID | (f->out[i] & HMM_PFN_WRITE);
	return 0;
}

/*
 * Only this step reads the registry, in a short read section: lookups and
 * provider callbacks, never a fault. The todo bitmap is allocated first so
 * that nothing in the section waits for memory.
 */
static int translate(struct p2p_fault *f)
{
	struct translation t = {};
	unsigned long i;
	int idx, ret = 0;

	if (!f->todo) {
		f->todo = alloc_bitmap(f);
		if (!f->todo)
			return -ENOMEM;
	}
	t.snap = hmm_p2p_translate_begin(&idx);
	for_each_set_bit(i, f->zdev, f->npages) {
		ret = translate_slot(f, &t, i);
		if (ret)
			break;
	}
	hmm_p2p_translate_end(idx);
	return ret;
}

/* ---- 3. fault runs ------------------------------------------------------- */

/*
 * A run: slots [@a, @b) of f->todo with one request, asked through
 * default_flags, so that the stock walk reads nothing from the caller's
 * array (a per-slot caller's inputs are in f->inputs, never written back).
 */
static struct hmm_range run_range(const struct p2p_fault *f, unsigned long a,
				  unsigned long b)
{
	struct hmm_range sub = *f->range;

	sub.start = f->range->start + (a << PAGE_SHIFT);
	sub.end = f->range->start + (b << PAGE_SHIFT);
	sub.hmm_pfns = f->range->hmm_pfns + a;
	sub.default_flags = slot_request(f, a);
	sub.pfn_flags_mask = 0;
	sub.dev_private_owner = f->caller_owner;
	return sub;
}

/* The end of the run that starts at @a, inside the todo range [@a, @b). */
static unsigned long run_end(const struct p2p_fault *f, unsigned long a,
			     unsigned long b)
{
	unsigned long req, e = a + 1;

	if (!f->inputs || a >= b)
		return b;
	req = slot_request(f, a);
	while (e < b && slot_request(f, e) == req)
		e++;
	return e;
}

/* Fault the slots in f->todo run by run; the caller holds the mmap lock. */
static int fault_runs_locked(struct p2p_fault *f)
{
	unsigned long a, b, e;
	int ret;

	for_each_set_bitrange(a, b, f->todo, f->npages) {
		for (; a < b; a = e) {
			struct hmm_range sub;

			e = run_end(f, a, b);
			sub = run_range(f, a, e);
			ret = hmm_range_fault(&sub);
			if (ret)
				return ret;
		}
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
 * Count the pass and read the foreign owners. False when the stock function
 * can do it all: no foreign provider is registered (or P2P is disabled) and
 * no alias was ever handed out. Once one was, a pass runs even without
 * owners (a walk with no owner), so that publish() keeps mapped alias
 * slots mapped while their pages are still in device memory.
 */
static bool p2p_pass_needed(struct p2p_fault *f)
{
	hmm_p2p_count(NULL, HMM_P2P_WALKS, 1);
	hmm_p2p_count(NULL, HMM_P2P_PAGES, f->npages);
	f->nr_owners = hmm_p2p_enabled() ?
		hmm_p2p_foreign_owners(f->caller_owner, f->owners) : 0;
	if (!f->nr_owners) {
		if (!READ_ONCE(aliases_handed_out))
			return false;
		f->owners[0] = NULL;
		f->nr_owners = 1;
	}
	f->own_walk = f->caller_owner;
	return true;
}

/* Set @f up for @range; per-slot requests are saved once per call. */
static int p2p_fault_init(struct p2p_fault *f, struct hmm_range *range,
			  struct device *client)
{
	memset(f, 0, sizeof(*f));
	f->out_pooled = -1;
	f->seen_pooled = -1;
	f->range = range;
	f->client = client;
	f->caller_owner = range->dev_private_owner;
	f->npages = (range->end - range->start) >> PAGE_SHIFT;
	if (!(range->pfn_flags_mask & HMM_P2P_PFN_REQ_MASK))
		return 0;
	f->inputs = kvmalloc_array(f->npages, sizeof(*f->inputs),
				   GFP_KERNEL_ACCOUNT);
	if (!f->inputs)
		return -ENOMEM;
	memcpy(f->inputs, range->hmm_pfns, f->npages * sizeof(*f->inputs));
	return 0;
}

/*
 * Steps 1 and 2, with the mmap lock held: afterwards out[] holds the final
 * answer of every slot except those in f->todo (which may be NULL).
 */
static int owner_walks_and_translate(struct p2p_fault *f)
{
	int ret;

	p2p_pass_reset(f);
	ret = owner_walks(f);
	if (!ret && f->zdev)
		ret = translate(f);
	return ret;
}

/*
 * A pass that left a slot undecided (publish_slot(): the slot changed since
 * the pass copied it, and the pass's answer would weaken it) runs once
 * more, with a new copy: a fresher answer is then in the copy and in what
 * the new walk sees, so it stays; a stale store is in the copy only, so it
 * is repaired. Once per call, and the first pass's answers stand if the
 * second one fails (its slots hold final answers already; the caller
 * checks the first pass's sequence): a slot that changes again during the
 * second pass is left until the next call, and the redo never turns a call
 * that succeeded into an error. The whole pass runs again, not only the
 * undecided slots: a call pays for it only when another walker stored into
 * its slots meanwhile.
 */
static bool pass_redo(struct p2p_fault *f)
{
	if (!f->conflict || f->redone)
		return false;
	f->redone = true;
	return true;
}

/* Publish out[] if nothing was invalidated since the pass began. */
static int check_and_publish(struct p2p_fault *f)
{
	if (mmu_interval_check_retry(f->range->notifier,
				     f->range->notifier_seq))
		return -EBUSY;
	return publish(f);
}

static bool has_todo(const struct p2p_fault *f)
{
	return f->todo_n;
}

/*
 * One pass under the caller's mmap lock and notifier sequence; a second one
 * under the same lock and sequence is as valid as the first.
 */
static int locked_pass(struct p2p_fault *f)
{
	int ret = owner_walks_and_translate(f);

	if (!ret && has_todo(f))
		ret = fault_runs_locked(f);
	if (!ret)
		ret = check_and_publish(f);
	return ret;
}

int hmm_p2p_range_fault(struct hmm_range *range, struct device *client)
{
	struct p2p_fault f;
	int ret;

	if (!range_valid(range))
		return -EINVAL;
	ret = p2p_fault_init(&f, range, client);
	if (!ret && !p2p_pass_needed(&f)) {
		p2p_fault_free(&f);
		return hmm_range_fault(range);
	}
	if (!ret)
		ret = locked_pass(&f);
	if (!ret && pass_redo(&f))
		locked_pass(&f);
	p2p_fault_free(&f);
	return ret;
}
EXPORT_SYMBOL_GPL(hmm_p2p_range_fault);

#ifdef HMM_P2P_HAVE_HMM_RANGE_FAULT_UNLOCKED_TIMEOUT
/* What is left of the call's budget, at least a jiffy; 0: no budget. */
static unsigned long budget_left(unsigned long timeout, unsigned long deadline)
{
	if (!timeout)
		return 0;
	return time_after(jiffies, deadline) ? 1 : deadline - jiffies + 1;
}

/*
 * The fault runs of the unlocked variant: each run goes to the kernel's
 * hmm_range_fault_unlocked_timeout(), which may let handle_mm_fault() drop
 * the mmap lock (userfaultfd needs that), honours fatal signals and bounds
 * its own -EBUSY retries by what is left of the call's budget, exactly as
 * for any caller of it. It refreshes the run's notifier_seq as it retries;
 * the aliases were found under range->notifier_seq, which
 * check_and_publish() checks once the runs are done.
 */
static int fault_runs_unlocked(struct p2p_fault *f, unsigned long timeout,
			       unsigned long deadline)
{
	unsigned long a, b, e;
	int ret;

	for_each_set_bitrange(a, b, f->todo, f->npages) {
		for (; a < b; a = e) {
			struct hmm_range sub;

			e = run_end(f, a, b);
			sub = run_range(f, a, e);
			ret = hmm_range_fault_unlocked_timeout(&sub,
							       budget_left(timeout, deadline));
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * One pass, as one iteration of the stock loop: sample the sequence, take
 * the mmap lock (killable), check the address space and the retry budget,
 * then owner walks and translation under the lock and the fault runs
 * without it.
 */
static int unlocked_pass(struct p2p_fault *f, unsigned long timeout,
			 unsigned long deadline)
{
	struct hmm_range *range = f->range;
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	f->reached_runs = false;
	range->notifier_seq = mmu_interval_read_begin(range->notifier);
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	if (check_stable_address_space(mm)) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	if (timeout && time_after(jiffies, deadline)) {
		mmap_read_unlock(mm);
		return -EBUSY;
	}
	ret = owner_walks_and_translate(f);
	mmap_read_unlock(mm);
	f->reached_runs = !ret;
	if (!ret && has_todo(f))
		ret = fault_runs_unlocked(f, timeout, deadline);
	if (!ret)
		ret = check_and_publish(f);
	return ret;
}

/*
 * The stock loop restarts its budget when a fault dropped the mmap lock (a
 * userfaultfd handler may take its time); that cannot be seen from here.
 * What can: a pass that sorted every slot needed fewer faults than any
 * pass of this call before, which a slow handler's answers give and an
 * invalidation storm does not (whatever pages it zaps, in whatever order:
 * the minimum only falls), so the budget restarts at most once per page.
 */
static bool pass_progressed(struct p2p_fault *f)
{
	if (!f->reached_runs || f->todo_n >= f->todo_min)
		return false;
	f->todo_min = f->todo_n;
	return true;
}

/*
 * pass_redo()'s pass on the unlocked call: a new pass under a new sequence
 * (and within the call's budget, which unlocked_pass() checks). If it
 * fails, the first pass's answers stand with the first pass's sequence,
 * which the caller checks: an invalidation since moves it too. A task that
 * is being killed does not start it: an uncontended killable lock would
 * not look at the signal, and the first pass's answers are enough.
 */
static void unlocked_redo(struct p2p_fault *f, unsigned long timeout,
			  unsigned long deadline)
{
	unsigned long first_seq = f->range->notifier_seq;

	if (fatal_signal_pending(current))
		return;
	if (unlocked_pass(f, timeout, deadline))
		f->range->notifier_seq = first_seq;
}

static int p2p_fault_unlocked(struct hmm_range *range, unsigned long timeout,
			      struct device *client)
{
	unsigned long deadline = jiffies + timeout;
	struct p2p_fault f;
	int ret;

	ret = p2p_fault_init(&f, range, client);
	f.todo_min = ULONG_MAX;
	while (!ret) {
		if (!p2p_pass_needed(&f)) {
			/* The pool's arrays go back before a call that may block. */
			p2p_fault_free(&f);
			/* A retry's fallback gets what is left of the budget. */
			return hmm_range_fault_unlocked_timeout(range,
								budget_left(timeout, deadline));
		}
		ret = unlocked_pass(&f, timeout, deadline);
		if (!ret && pass_redo(&f))
			unlocked_redo(&f, timeout, deadline);
		if (ret != -EBUSY)
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (pass_progressed(&f))
			deadline = jiffies + timeout;
		else if (timeout && time_after(jiffies, deadline))
			break;
		ret = 0;
	}
	p2p_fault_free(&f);
	return ret;
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
