// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: FAULT, the fault an ODP driver takes before it maps pages,
 * with nothing mapped or moved afterwards: which slots came back valid, and
 * how many of them are P2P aliases or (what must never reach a consumer)
 * device-private pages. It follows the canonical mirror loop (odp_loop.h)
 * under the file's notifier, with the locked hmm_p2p_range_fault() or, with
 * EGPU_FAULT_UNLOCKED, hmm_p2p_range_fault_unlocked_timeout() as 7.3's
 * ib_umem_odp calls it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "egpu.h"
#include "hmm_p2p_compat.h"
#include "odp_loop.h"

struct egpu_fault_job {
	struct egpu_file *f;
	struct egpu_fault req;
	struct egpu_edu *edu;		/* EGPU_FAULT_CLIENT_EDU */
	struct device *client;
	unsigned long *pfns;		/* the mirror's, with EGPU_FAULT_KEEP */
};

/* ---- the persistent mirror (EGPU_FAULT_KEEP) ----------------------------- */

/*
 * Clear the mirror's slots in [@start, @end), as ib_umem_odp does when its
 * notifier fires; a valid alias slot is a device mapping torn down. Called
 * with f->lock held.
 */
void egpu_mirror_invalidate(struct egpu_file *f, unsigned long start,
			    unsigned long end)
{
	u64 first, last, i;

	if (!f->mirror)
		return;
	first = max_t(u64, start, f->mirror_start);
	last = min_t(u64, end, f->mirror_start +
		     (f->mirror_npages << PAGE_SHIFT));
	for (i = first; i < last; i += PAGE_SIZE) {
		unsigned long *slot =
			&f->mirror[(i - f->mirror_start) >> PAGE_SHIFT];

		if ((*slot & HMM_PFN_VALID) &&
		    is_pci_p2pdma_page(hmm_pfn_to_page(*slot)))
			f->mirror_zaps++;
		*slot = 0;
	}
}

void egpu_mirror_free(struct egpu_file *f)
{
	kvfree(f->mirror);
	f->mirror = NULL;
}

/* The mirror of the job's range, made anew if the range changed. */
static int egpu_mirror_get(struct egpu_fault_job *job)
{
	struct egpu_file *f = job->f;
	u64 npages = job->req.len >> PAGE_SHIFT;
	unsigned long *m = NULL;

	if (!f->mirror || f->mirror_start != job->req.addr ||
	    f->mirror_npages != npages) {
		m = kvcalloc(npages, sizeof(*m), GFP_KERNEL);
		if (!m)
			return -ENOMEM;
		mutex_lock(&f->lock);
		swap(f->mirror, m);
		f->mirror_start = job->req.addr;
		f->mirror_npages = npages;
		f->mirror_zaps = 0;
		mutex_unlock(&f->lock);
		kvfree(m);
	}
	job->pfns = f->mirror;
	return 0;
}

/* ---- FAULT ----------------------------------------------------------------- */

/*
 * EGPU_FAULT_ODD_ONLY: the requests are in the slots, which a walk
 * overwrites: a caller that asks per slot fills them before every walk.
 */
static void egpu_fault_fill_requests(struct egpu_fault_job *job,
				     struct hmm_range *range)
{
	unsigned long i, req = HMM_PFN_REQ_FAULT |
		((job->req.flags & EGPU_FAULT_WRITE) ? HMM_PFN_REQ_WRITE : 0);

	for (i = 0; i < (job->req.len >> PAGE_SHIFT); i++)
		range->hmm_pfns[i] = (i & 1) ? req : 0;
}

static int egpu_fault_walk(struct hmm_range *range, void *arg)
{
	struct egpu_fault_job *job = arg;
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	if (job->req.flags & EGPU_FAULT_ODD_ONLY)
		egpu_fault_fill_requests(job, range);
	if (job->req.flags & EGPU_FAULT_UNLOCKED)
		return hmm_p2p_range_fault_unlocked_timeout(range,
			msecs_to_jiffies(egpu_retry_timeout_ms), job->client);
	mmap_read_lock(mm);
	ret = hmm_p2p_range_fault(range, job->client);
	mmap_read_unlock(mm);
	return ret;
}

/*
 * The device maps what the walk returned, as mlx5 does after its sequence
 * check (hmm_dma_map_pfn() marks the slot HMM_PFN_DMA_MAPPED); an
 * invalidation clears the slot. f->lock held.
 */
static void egpu_mirror_map(struct egpu_fault_job *job, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (job->pfns[i] & HMM_PFN_VALID)
			job->pfns[i] |= HMM_P2P_PFN_MAPPED;
}

/* Count what came back; f->lock held, so the pfns are current. */
static void egpu_fault_count(struct egpu_fault_job *job, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		struct page *page;

		if (!(job->pfns[i] & HMM_PFN_VALID))
			continue;
		job->req.valid++;
		page = hmm_pfn_to_page(job->pfns[i]);
		job->req.aliases += is_pci_p2pdma_page(page);
		job->req.device_private += is_device_private_page(page);
	}
}

static unsigned long egpu_fault_flags(const struct egpu_fault *req)
{
	if (req->flags & (EGPU_FAULT_SNAPSHOT | EGPU_FAULT_ODD_ONLY))
		return 0;
	return HMM_PFN_REQ_FAULT |
	       ((req->flags & EGPU_FAULT_WRITE) ? HMM_PFN_REQ_WRITE : 0);
}

static int egpu_fault_run(struct egpu_fault_job *job)
{
	unsigned long npages = job->req.len >> PAGE_SHIFT;
	bool keep = job->req.flags & EGPU_FAULT_KEEP;
	struct egpu_file *f = job->f;
	struct hmm_range range = {
		.notifier = &f->notifier,
		.start = job->req.addr,
		.end = job->req.addr + job->req.len,
		.default_flags = egpu_fault_flags(&job->req),
		.pfn_flags_mask = (job->req.flags & EGPU_FAULT_ODD_ONLY) ?
			HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE : 0,
		.dev_private_owner = (job->req.flags & EGPU_FAULT_OWN) ?
			egpu_owner(f->gpu) : NULL,
	};
	int ret = 0;

	if (keep)
		ret = egpu_mirror_get(job);
	else
		job->pfns = kvcalloc(npages, sizeof(*job->pfns), GFP_KERNEL);
	if (!job->pfns)
		return ret ?: -ENOMEM;
	range.hmm_pfns = job->pfns;
	if (job->req.flags & EGPU_FAULT_PLANT_STALE) {
		mutex_lock(&f->lock);
		job->pfns[0] = page_to_pfn(ZERO_PAGE(0)) | HMM_PFN_VALID;
		mutex_unlock(&f->lock);
	}
	if (job->req.flags & EGPU_FAULT_PLANT_LATE) {
		ret = egpu_plant_arm(f->gpu, &job->pfns[0]);
		if (ret)
			return ret;
	}
	ret = test_odp_fault_and_lock(&range, &f->lock,
				      msecs_to_jiffies(egpu_retry_timeout_ms),
				      egpu_fault_walk, job, &job->req.retries);
	if (job->req.flags & EGPU_FAULT_PLANT_LATE)
		job->req.planted = egpu_plant_disarm(f->gpu);
	/* The mirror is reported whatever happened; a fresh array if it worked. */
	if (ret && keep)
		mutex_lock(&f->lock);
	if (!ret && keep)
		egpu_mirror_map(job, npages);
	if (!ret || keep) {
		egpu_fault_count(job, npages);
		if (keep)
			job->req.zaps = f->mirror_zaps;
		mutex_unlock(&f->lock);
	}
	if (!keep)
		kvfree(job->pfns);
	return ret;
}

static int egpu_fault_client(struct egpu_fault_job *job)
{
	switch (job->req.client_kind) {
	case EGPU_FAULT_CLIENT_EDU:
		job->edu = egpu_edu_get(job->req.client);
		if (!job->edu)
			return -ENODEV;
		job->client = &job->edu->pdev->dev;
		return 0;
	case EGPU_FAULT_CLIENT_CPU:
		job->client = NULL;
		return 0;
	case EGPU_FAULT_CLIENT_NON_PCI:
		/* The misc device: not PCI, and its parent is our GPU. */
		job->client = job->f->gpu->misc.this_device;
		return 0;
	default:
		return -EINVAL;
	}
}

long egpu_ioctl_fault(struct egpu_file *f, void __user *arg)
{
	struct egpu_fault_job job = { .f = f };
	int ret;

	if (copy_from_user(&job.req, arg, sizeof(job.req)))
		return -EFAULT;
	if (job.req.planted || (job.req.flags & ~EGPU_FAULT_FLAGS) ||
	    ((job.req.flags & EGPU_FAULT_KEEP) &&
	     (job.req.flags & EGPU_FAULT_ODD_ONLY)) ||
	    ((job.req.flags &
	      (EGPU_FAULT_PLANT_STALE | EGPU_FAULT_PLANT_LATE)) &&
	     !(job.req.flags & EGPU_FAULT_KEEP)))
		return -EINVAL;
	ret = egpu_check_range(job.req.addr, job.req.len, EGPU_MAX_FAULT_LEN);
	if (ret)
		return ret;
	ret = egpu_fault_client(&job);
	if (ret)
		return ret;
	job.req.valid = 0;
	job.req.aliases = 0;
	job.req.device_private = 0;
	job.req.retries = 0;
	job.req.zaps = 0;

	if (job.req.flags & EGPU_FAULT_KEEP)
		mutex_lock(&f->mirror_lock);
	ret = egpu_fault_run(&job);
	if (job.req.flags & EGPU_FAULT_KEEP)
		mutex_unlock(&f->mirror_lock);
	if (job.edu)
		egpu_edu_put(job.edu);
	if (copy_to_user(arg, &job.req, sizeof(job.req)))
		return -EFAULT;
	return ret;
}
