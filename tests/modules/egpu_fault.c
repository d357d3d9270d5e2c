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
#include "odp_loop.h"

struct egpu_fault_job {
	struct egpu_file *f;
	struct egpu_fault req;
	struct egpu_edu *edu;		/* EGPU_FAULT_CLIENT_EDU */
	struct device *client;
	unsigned long *pfns;
};

static int egpu_fault_walk(struct hmm_range *range, void *arg)
{
	struct egpu_fault_job *job = arg;
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	if (job->req.flags & EGPU_FAULT_UNLOCKED)
		return hmm_p2p_range_fault_unlocked_timeout(range,
			msecs_to_jiffies(egpu_retry_timeout_ms), job->client);
	mmap_read_lock(mm);
	ret = hmm_p2p_range_fault(range, job->client);
	mmap_read_unlock(mm);
	return ret;
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

static int egpu_fault_run(struct egpu_fault_job *job)
{
	unsigned long npages = job->req.len >> PAGE_SHIFT;
	struct egpu_file *f = job->f;
	struct hmm_range range = {
		.notifier = &f->notifier,
		.start = job->req.addr,
		.end = job->req.addr + job->req.len,
		.default_flags = HMM_PFN_REQ_FAULT |
			((job->req.flags & EGPU_FAULT_WRITE) ? HMM_PFN_REQ_WRITE : 0),
	};
	int ret;

	job->pfns = kvcalloc(npages, sizeof(*job->pfns), GFP_KERNEL);
	if (!job->pfns)
		return -ENOMEM;
	range.hmm_pfns = job->pfns;
	ret = test_odp_fault_and_lock(&range, &f->lock,
				      msecs_to_jiffies(egpu_retry_timeout_ms),
				      egpu_fault_walk, job, &job->req.retries);
	if (!ret) {
		egpu_fault_count(job, npages);
		mutex_unlock(&f->lock);
	}
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
	if (job.req.pad || (job.req.flags & ~EGPU_FAULT_FLAGS))
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

	ret = egpu_fault_run(&job);
	if (job.edu)
		egpu_edu_put(job.edu);
	if (copy_to_user(arg, &job.req, sizeof(job.req)))
		return -EFAULT;
	return ret;
}
