// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: EDU_DMA, a DMA client mirroring a process range the way an
 * ODP NIC does:
 *
 *   again:
 *	seq = mmu_interval_read_begin()
 *	mmap_read_lock(); hmm_p2p_range_fault(range, client); mmap_read_unlock()
 *	-EBUSY: again
 *	lock (the invalidate callback takes it too)
 *	mmu_interval_read_retry(seq): unlock, again
 *	map each page, DMA, unmap
 *	unlock
 *
 * A device-private page comes back as a P2PDMA alias when the edu can reach
 * the GPU's BAR and is migrated to RAM otherwise. The mapping gives the
 * alias's PCI bus address: hmm_dma_map_pfn() where the kernel has it (6.16+),
 * a one-entry dma_map_sg() before (the P2P-aware single-page mapping of those
 * kernels; dma_map_page() is not P2P-aware there). Data crosses a kernel bounce page: the user
 * buffer is only touched without the lock, as a fault on it may invalidate.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "egpu.h"
#include "hmm_p2p_probes.h"
#include "odp_loop.h"

#ifdef HMM_P2P_HAVE_HMM_DMA_MAP
#include <linux/hmm-dma.h>
#endif

struct egpu_dma_job {
	struct egpu_file *f;
	struct egpu_edu *edu;
	struct device *dev;		/* the edu's DMA device */
	struct egpu_edu_dma req;
	unsigned long npages;
	bool write;
	struct page **bounce;
	dma_addr_t *bounce_dma;
	unsigned long nr_mapped;	/* bounce pages DMA-mapped */
	unsigned long *pfns;		/* the range's hmm pfns */
#ifdef HMM_P2P_HAVE_HMM_DMA_MAP
	struct hmm_dma_map map;
	struct pci_p2pdma_map_state p2p_state;	/* cached per provider */
#else
	struct scatterlist sg;		/* the one page being moved */
#endif
};

/* The CPU reads the bounce pages only after their DMA unmap. */
static void egpu_dma_unmap_bounce(struct egpu_dma_job *job)
{
	unsigned long i;

	for (i = 0; i < job->nr_mapped; i++)
		dma_unmap_page(job->dev, job->bounce_dma[i], PAGE_SIZE,
			       DMA_BIDIRECTIONAL);
	job->nr_mapped = 0;
}

static void egpu_dma_bounce_free(struct egpu_dma_job *job)
{
	unsigned long i;

	egpu_dma_unmap_bounce(job);
	if (job->bounce)
		for (i = 0; i < job->npages; i++)
			if (job->bounce[i])
				__free_page(job->bounce[i]);
	kvfree(job->bounce);
	kvfree(job->bounce_dma);
	job->bounce = NULL;
	job->bounce_dma = NULL;
}

/* Bounce pages, filled from the user buffer for a write, DMA-mapped. */
static int egpu_dma_bounce_init(struct egpu_dma_job *job)
{
	void __user *ubuf = u64_to_user_ptr(job->req.buf);
	unsigned long i;

	job->bounce = kvcalloc(job->npages, sizeof(*job->bounce), GFP_KERNEL);
	job->bounce_dma = kvcalloc(job->npages, sizeof(*job->bounce_dma),
				   GFP_KERNEL);
	if (!job->bounce || !job->bounce_dma)
		return -ENOMEM;
	for (i = 0; i < job->npages; i++) {
		job->bounce[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!job->bounce[i])
			return -ENOMEM;
		if (job->write &&
		    copy_from_user(page_address(job->bounce[i]),
				   ubuf + i * PAGE_SIZE, PAGE_SIZE))
			return -EFAULT;
	}
	for (i = 0; i < job->npages; i++) {
		job->bounce_dma[i] = dma_map_page(job->dev, job->bounce[i], 0,
						  PAGE_SIZE, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(job->dev, job->bounce_dma[i]))
			return -EIO;
		job->nr_mapped++;
	}
	return 0;
}

static int egpu_dma_copy_out(struct egpu_dma_job *job)
{
	void __user *ubuf = u64_to_user_ptr(job->req.buf);
	unsigned long i;

	for (i = 0; i < job->npages; i++)
		if (copy_to_user(ubuf + i * PAGE_SIZE,
				 page_address(job->bounce[i]), PAGE_SIZE))
			return -EFAULT;
	return 0;
}

/* The walk of the canonical loop: P2P-aware, for the edu as client. */
static int egpu_dma_walk(struct hmm_range *range, void *arg)
{
	struct egpu_dma_job *job = arg;
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	mmap_read_lock(mm);
	ret = hmm_p2p_range_fault(range, job->dev);
	mmap_read_unlock(mm);
	return ret;
}

/* The canonical loop; returns 0 with f->lock held and the pfns valid. */
static int egpu_dma_fault_lock(struct egpu_dma_job *job)
{
	struct egpu_file *f = job->f;
	struct hmm_range range = {
		.notifier = &f->notifier,
		.start = job->req.addr,
		.end = job->req.addr + job->req.len,
		.hmm_pfns = job->pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (job->write ? HMM_PFN_REQ_WRITE : 0),
	};

	return test_odp_fault_and_lock(&range, &f->lock,
				       msecs_to_jiffies(egpu_retry_timeout_ms),
				       egpu_dma_walk, job, &job->req.retries);
}

#ifdef HMM_P2P_HAVE_HMM_DMA_MAP
static int egpu_dma_map_alloc(struct egpu_dma_job *job)
{
	int ret = hmm_dma_map_alloc(job->dev, &job->map, job->npages, PAGE_SIZE);

	if (!ret)
		job->pfns = job->map.pfn_list;
	return ret;
}

static void egpu_dma_map_free(struct egpu_dma_job *job)
{
	hmm_dma_map_free(job->dev, &job->map);
	job->pfns = NULL;
}

static int egpu_dma_map_one(struct egpu_dma_job *job, unsigned long i,
			    dma_addr_t *addr)
{
	*addr = hmm_dma_map_pfn(job->dev, &job->map, i, &job->p2p_state);
	return dma_mapping_error(job->dev, *addr) ? -EIO : 0;
}

static void egpu_dma_unmap_one(struct egpu_dma_job *job, unsigned long i)
{
	hmm_dma_unmap_pfn(job->dev, &job->map, i);
}
#else
static int egpu_dma_map_alloc(struct egpu_dma_job *job)
{
	job->pfns = kvcalloc(job->npages, sizeof(*job->pfns), GFP_KERNEL);
	return job->pfns ? 0 : -ENOMEM;
}

static void egpu_dma_map_free(struct egpu_dma_job *job)
{
	kvfree(job->pfns);
	job->pfns = NULL;
}

/* dma_map_sg() maps a P2PDMA page to its bus address or refuses it. */
static int egpu_dma_map_one(struct egpu_dma_job *job, unsigned long i,
			    dma_addr_t *addr)
{
	sg_init_table(&job->sg, 1);
	sg_set_page(&job->sg, hmm_pfn_to_page(job->pfns[i]), PAGE_SIZE, 0);
	if (dma_map_sg(job->dev, &job->sg, 1, DMA_BIDIRECTIONAL) != 1)
		return -EIO;
	*addr = sg_dma_address(&job->sg);
	return 0;
}

static void egpu_dma_unmap_one(struct egpu_dma_job *job, unsigned long i)
{
	dma_unmap_sg(job->dev, &job->sg, 1, DMA_BIDIRECTIONAL);
}
#endif

/* One page through the edu buffer; called with f->lock held. */
static int egpu_dma_one(struct egpu_dma_job *job, unsigned long i)
{
	struct page *page = hmm_pfn_to_page(job->pfns[i]);
	bool p2p = is_pci_p2pdma_page(page);
	dma_addr_t addr;
	int ret;

	ret = egpu_dma_map_one(job, i, &addr);
	if (ret)
		return ret;
	if (job->write)
		ret = egpu_edu_move(job->edu, job->bounce_dma[i], addr);
	else
		ret = egpu_edu_move(job->edu, addr, job->bounce_dma[i]);
	egpu_dma_unmap_one(job, i);
	if (ret)
		return ret;
	/* Like an ODP driver: a page written by DMA is dirty. */
	if (job->write && !p2p)
		set_page_dirty(page);
	job->req.pages++;
	job->req.p2p_pages += p2p;
	return 0;
}

static int egpu_dma_pages_locked(struct egpu_dma_job *job)
{
	unsigned long i;
	int ret;

	for (i = 0; i < job->npages; i++) {
		/* A successful fault leaves no slot without a page. */
		if (!(job->pfns[i] & HMM_PFN_VALID))
			return -EFAULT;
		ret = egpu_dma_one(job, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int egpu_dma_run(struct egpu_dma_job *job)
{
	int ret;

	ret = egpu_dma_bounce_init(job);
	if (ret)
		return ret;
	ret = egpu_dma_map_alloc(job);
	if (ret)
		return ret;

	ret = egpu_dma_fault_lock(job);
	if (!ret) {
		ret = egpu_dma_pages_locked(job);
		mutex_unlock(&job->f->lock);
	}
	egpu_dma_map_free(job);
	return ret;
}

static int egpu_dma_check(const struct egpu_edu_dma *req)
{
	if (req->dir != EGPU_DMA_READ && req->dir != EGPU_DMA_WRITE)
		return -EINVAL;
	return egpu_check_range(req->addr, req->len, EGPU_MAX_DMA_LEN);
}

long egpu_ioctl_edu_dma(struct egpu_file *f, void __user *arg)
{
	struct egpu_dma_job job = { .f = f };
	struct egpu *gpu = f->gpu;
	int ret;

	if (copy_from_user(&job.req, arg, sizeof(job.req)))
		return -EFAULT;
	ret = egpu_dma_check(&job.req);
	if (ret)
		return ret;
	job.edu = egpu_edu_get(job.req.client);
	if (!job.edu)
		return -ENODEV;
	job.dev = &job.edu->pdev->dev;
	job.npages = job.req.len >> PAGE_SHIFT;
	job.write = job.req.dir == EGPU_DMA_WRITE;
	job.req.pages = 0;
	job.req.p2p_pages = 0;
	job.req.retries = 0;

	ret = egpu_dma_run(&job);
	egpu_dma_unmap_bounce(&job);
	if (!ret && !job.write)
		ret = egpu_dma_copy_out(&job);
	egpu_dma_bounce_free(&job);
	egpu_edu_put(job.edu);

	atomic64_add(job.req.pages, &gpu->stats.dma_pages);
	atomic64_add(job.req.p2p_pages, &gpu->stats.dma_p2p_pages);
	atomic64_add(job.req.retries, &gpu->stats.dma_retries);
	if (copy_to_user(arg, &job.req, sizeof(job.req)))
		return -EFAULT;
	return ret;
}
