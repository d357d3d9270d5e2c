// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: migration between system RAM and VRAM, and what the GPU
 * itself does with its memory (TOUCH writes it, READ_VRAM reads it).
 *
 * The GPU's view of a device page is its bytes in the BAR window (kaddr,
 * an uncached mapping); data is copied there on migration to the device
 * and back on migration to RAM, whatever triggered it: an ioctl, a CPU
 * fault (migrate_to_ram), or the unbind of the GPU (eviction).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hmm_p2p_compat.h"
#include "egpu.h"

/* Pages per migrate_vma call: bounds the src/dst arrays. */
#define EGPU_CHUNK		64UL
/* TOUCH: migrations lost to concurrent invalidations before -EBUSY. */
#define EGPU_TOUCH_ATTEMPTS	16

int egpu_check_range(u64 addr, u64 len, u64 max_len)
{
	u64 end;

	if (!len || len > max_len || !PAGE_ALIGNED(addr) ||
	    !PAGE_ALIGNED(len) || check_add_overflow(addr, len, &end) ||
	    end > TASK_SIZE)
		return -EINVAL;
	return 0;
}

/* ---- copies ---------------------------------------------------------------- */

static void egpu_copy_from_ram(void *vram, struct page *spage)
{
	void *src;

	if (!spage) {
		/* pte_none or the zero page: the device page reads zero. */
		memset(vram, 0, PAGE_SIZE);
		return;
	}
	src = kmap_local_page(spage);
	memcpy(vram, src, PAGE_SIZE);
	kunmap_local(src);
}

static void egpu_copy_to_ram(struct page *dpage, const void *vram)
{
	void *dst = kmap_local_page(dpage);

	memcpy(dst, vram, PAGE_SIZE);
	kunmap_local(dst);
}

static unsigned long egpu_count_migrated(const unsigned long *src,
					 const unsigned long *dst,
					 unsigned long npages)
{
	unsigned long i, n = 0;

	for (i = 0; i < npages; i++)
		if ((src[i] & MIGRATE_PFN_MIGRATE) && migrate_pfn_to_page(dst[i]))
			n++;
	return n;
}

/* ---- RAM -> VRAM ---------------------------------------------------------- */

static void egpu_prepare_to_dev(struct egpu *gpu, struct migrate_vma *args)
{
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		struct page *spage, *dpage;

		if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		spage = migrate_pfn_to_page(args->src[i]);
		/* SELECT_SYSTEM: never another device's page, but be sure. */
		if (spage && is_zone_device_page(spage))
			continue;
		dpage = egpu_alloc_dev_page(gpu);
		if (!dpage)
			return;	/* VRAM full: the rest stays in RAM */
		egpu_copy_from_ram(egpu_page_vram(gpu, dpage), spage);
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if ((args->src[i] & MIGRATE_PFN_WRITE) ||
		    (!spage && (args->vma->vm_flags & VM_WRITE)))
			args->dst[i] |= MIGRATE_PFN_WRITE;
	}
}

static int egpu_chunk_to_dev(struct egpu *gpu, struct migrate_vma *args,
			     u64 *moved)
{
	unsigned long n;
	int ret;

	args->flags = MIGRATE_VMA_SELECT_SYSTEM;
	ret = migrate_vma_setup(args);
	if (ret)
		return ret;
	egpu_prepare_to_dev(gpu, args);
	migrate_vma_pages(args);
	n = egpu_count_migrated(args->src, args->dst, args->npages);
	migrate_vma_finalize(args);
	atomic64_add(n, &gpu->stats.migrate_to_dev);
	*moved += n;
	return 0;
}

/* ---- VRAM -> RAM ---------------------------------------------------------- */

/* Returns -ENOMEM if a page could not get a RAM page (it stays in VRAM). */
static int egpu_prepare_to_ram(struct egpu *gpu, struct migrate_vma *args)
{
	unsigned long i, addr;
	int ret = 0;

	for (i = 0, addr = args->start; i < args->npages;
	     i++, addr += PAGE_SIZE) {
		struct page *spage, *dpage;

		if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		spage = migrate_pfn_to_page(args->src[i]);
		if (!spage || !egpu_owns_page(gpu, spage))
			continue;
		dpage = alloc_page_vma(GFP_HIGHUSER_MOVABLE, args->vma, addr);
		if (!dpage) {
			ret = -ENOMEM;
			continue;
		}
		lock_page(dpage);
		egpu_copy_to_ram(dpage, egpu_page_vram(gpu, spage));
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (args->src[i] & MIGRATE_PFN_WRITE)
			args->dst[i] |= MIGRATE_PFN_WRITE;
	}
	return ret;
}

static int egpu_chunk_to_ram(struct egpu *gpu, struct migrate_vma *args,
			     atomic64_t *counter, u64 *moved)
{
	unsigned long n;
	int ret;

	args->flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	ret = migrate_vma_setup(args);
	if (ret)
		return ret;
	ret = egpu_prepare_to_ram(gpu, args);
	migrate_vma_pages(args);
	n = egpu_count_migrated(args->src, args->dst, args->npages);
	migrate_vma_finalize(args);
	atomic64_add(n, counter);
	if (moved)
		*moved += n;
	return ret;
}

static bool trace_to_ram;
module_param(trace_to_ram, bool, 0644);
MODULE_PARM_DESC(trace_to_ram,
		 "Log every CPU fault that migrates a page back to RAM: task, address, user or kernel access, user instruction pointer; a kernel access also logs its stack (explains a benchmark's migrations)");

/* Who touched a device page with the CPU, to explain a migration. */
static void egpu_trace_to_ram(const struct vm_fault *vmf)
{
	bool user = vmf->flags & FAULT_FLAG_USER;

	if (!READ_ONCE(trace_to_ram))
		return;
	pr_info("to_ram: %s[%d] %s %s access at %#lx (vma %#lx-%#lx), user ip %#lx\n",
		current->comm, task_pid_nr(current), user ? "user" : "kernel",
		vmf->flags & FAULT_FLAG_WRITE ? "write" : "read",
		vmf->address, vmf->vma->vm_start, vmf->vma->vm_end,
		user ? instruction_pointer(task_pt_regs(current)) : 0UL);
	if (!user)
		dump_stack();
}

/* CPU fault on one of our pages (do_swap_page passes it locked). */
vm_fault_t egpu_migrate_to_ram(struct vm_fault *vmf)
{
	struct egpu *gpu = container_of(hmm_p2p_page_pgmap(vmf->page),
					struct egpu, pgmap);
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = ALIGN_DOWN(vmf->address, PAGE_SIZE),
		.end = ALIGN_DOWN(vmf->address, PAGE_SIZE) + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = egpu_owner(gpu),
		.fault_page = vmf->page,
	};
	int ret;

	egpu_trace_to_ram(vmf);
	/* Like a driver's device-memory lock (see PROVIDER). */
	mutex_lock(&gpu->pagemap_lock);
	ret = egpu_chunk_to_ram(gpu, &args, &gpu->stats.migrate_to_ram_fault,
				NULL);
	mutex_unlock(&gpu->pagemap_lock);
	if (ret == -ENOMEM)
		return VM_FAULT_OOM;
	return ret ? VM_FAULT_SIGBUS : 0;
}

/* ---- ranges of a process -------------------------------------------------- */

/* Migrate [start, end) of @mm, VMA by VMA and chunk by chunk. */
static int egpu_migrate_range(struct egpu *gpu, struct mm_struct *mm,
			      unsigned long start, unsigned long end,
			      bool to_dev, u64 *moved)
{
	unsigned long *src, *dst;
	unsigned long addr, next;
	int ret = 0;

	src = kcalloc(2 * EGPU_CHUNK, sizeof(*src), GFP_KERNEL);
	if (!src)
		return -ENOMEM;
	dst = src + EGPU_CHUNK;
	mmap_read_lock(mm);
	for (addr = start; addr < end; addr = next) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct migrate_vma args = {
			.src = src,
			.dst = dst,
			.pgmap_owner = egpu_owner(gpu),
		};

		if (!vma) {
			ret = -EFAULT;
			break;
		}
		next = min3(end, vma->vm_end, addr + EGPU_CHUNK * PAGE_SIZE);
		args.vma = vma;
		args.start = addr;
		args.end = next;
		if (to_dev)
			ret = egpu_chunk_to_dev(gpu, &args, moved);
		else
			ret = egpu_chunk_to_ram(gpu, &args,
						&gpu->stats.migrate_to_ram_ioctl,
						moved);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	kfree(src);
	return ret;
}

static long egpu_ioctl_migrate(struct egpu_file *f, void __user *arg,
			       bool to_dev)
{
	struct egpu_migrate req;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.reserved)
		return -EINVAL;
	ret = egpu_check_range(req.addr, req.len, EGPU_MAX_LEN);
	if (ret)
		return ret;
	req.moved = 0;
	ret = egpu_migrate_range(f->gpu, f->notifier.mm, req.addr,
				 req.addr + req.len, to_dev, &req.moved);
	if (copy_to_user(arg, &req, sizeof(req)))
		return -EFAULT;
	return ret;
}

long egpu_ioctl_migrate_to_dev(struct egpu_file *f, void __user *arg)
{
	return egpu_ioctl_migrate(f, arg, true);
}

long egpu_ioctl_migrate_to_ram(struct egpu_file *f, void __user *arg)
{
	return egpu_ioctl_migrate(f, arg, false);
}

/* ---- the GPU's own accesses -------------------------------------------- */

/*
 * Walk @range until it succeeds without an invalidation in between. With
 * @lock, return 0 holding f->lock: the pfns stay valid until it is dropped
 * because the invalidate callback needs the same lock.
 */
static int egpu_walk(struct egpu_file *f, struct hmm_range *range, bool lock)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(egpu_retry_timeout_ms);
	struct mm_struct *mm = f->notifier.mm;
	int ret;

	for (;;) {
		if (time_after(jiffies, timeout))
			return -EBUSY;
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			continue;
		if (ret || !lock)
			return ret;
		mutex_lock(&f->lock);
		if (!mmu_interval_read_retry(range->notifier,
					     range->notifier_seq))
			return 0;
		mutex_unlock(&f->lock);
	}
}

/* Which pages are ours, with f->lock held on success (see egpu_walk()). */
static int egpu_snapshot_lock(struct egpu_file *f, unsigned long start,
			      unsigned long npages, unsigned long *pfns)
{
	struct hmm_range range = {
		.notifier = &f->notifier,
		.start = start,
		.end = start + (npages << PAGE_SHIFT),
		.hmm_pfns = pfns,
		.dev_private_owner = egpu_owner(f->gpu),
	};

	memset(pfns, 0, npages * sizeof(*pfns));
	return egpu_walk(f, &range, true);
}

static struct page *egpu_resident(struct egpu *gpu, unsigned long hmm_pfn)
{
	struct page *page;

	if (!(hmm_pfn & HMM_PFN_VALID))
		return NULL;
	page = hmm_pfn_to_page(hmm_pfn);
	return egpu_owns_page(gpu, page) ? page : NULL;
}

/*
 * Bring every page of the range into RAM or into this GPU (pages of other
 * GPUs are faulted to RAM by their own migrate_to_ram), then into VRAM.
 * Under shared_owner a peer's pages are this GPU's own to the walk and
 * stay where they are: the touch then ends with -EBUSY (not used there).
 */
static int egpu_gather(struct egpu_file *f, unsigned long start,
		       unsigned long npages, unsigned long *pfns, u64 *moved)
{
	struct hmm_range range = {
		.notifier = &f->notifier,
		.start = start,
		.end = start + (npages << PAGE_SHIFT),
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
		.dev_private_owner = egpu_owner(f->gpu),
	};
	unsigned long i;
	int ret;

	memset(pfns, 0, npages * sizeof(*pfns));
	ret = egpu_walk(f, &range, false);
	if (ret)
		return ret;
	/*
	 * Already all in this GPU: nothing moves, so no migration and no
	 * invalidation (a GPU touching its own memory leaves the CPU page
	 * tables, and so every mirror of them, alone).
	 */
	for (i = 0; i < npages; i++)
		if (!egpu_resident(f->gpu, pfns[i]))
			break;
	if (i == npages)
		return 0;
	return egpu_migrate_range(f->gpu, f->notifier.mm, range.start,
				  range.end, true, moved);
}

/* Write the pattern into every resident page not yet written; f->lock held. */
static void egpu_touch_resident(struct egpu *gpu, const struct egpu_touch *req,
				const unsigned long *pfns, unsigned long *done)
{
	unsigned long i, npages = req->len >> PAGE_SHIFT;

	for (i = 0; i < npages; i++) {
		struct page *page = egpu_resident(gpu, pfns[i]);
		u64 v = req->pattern;

		if (!page || test_bit(i, done))
			continue;
		if (req->flags & EGPU_TOUCH_ADD_INDEX)
			v += i;
		memset64(egpu_page_vram(gpu, page), v, PAGE_SIZE / sizeof(u64));
		__set_bit(i, done);
	}
}

static int egpu_touch(struct egpu_file *f, struct egpu_touch *req,
		      unsigned long *pfns, unsigned long *done)
{
	unsigned long npages = req->len >> PAGE_SHIFT;
	int attempt, ret;

	for (attempt = 0; attempt < EGPU_TOUCH_ATTEMPTS; attempt++) {
		ret = egpu_gather(f, req->addr, npages, pfns, &req->migrated);
		if (ret)
			return ret;
		ret = egpu_snapshot_lock(f, req->addr, npages, pfns);
		if (ret)
			return ret;
		egpu_touch_resident(f->gpu, req, pfns, done);
		mutex_unlock(&f->lock);
		if (bitmap_full(done, npages))
			return 0;
	}
	/* Migrated away each time, or VRAM is full. */
	return -EBUSY;
}

long egpu_ioctl_touch(struct egpu_file *f, void __user *arg)
{
	unsigned long *pfns, *done;
	struct egpu_touch req;
	unsigned long npages;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.pad || (req.flags & ~EGPU_TOUCH_FLAGS))
		return -EINVAL;
	ret = egpu_check_range(req.addr, req.len, EGPU_MAX_LEN);
	if (ret)
		return ret;
	npages = req.len >> PAGE_SHIFT;
	pfns = kvcalloc(npages, sizeof(*pfns), GFP_KERNEL);
	done = bitmap_zalloc(npages, GFP_KERNEL);
	ret = -ENOMEM;
	if (pfns && done) {
		req.migrated = 0;
		ret = egpu_touch(f, &req, pfns, done);
		req.written = bitmap_weight(done, npages);
		atomic64_add(req.written, &f->gpu->stats.touch_pages);
		if (copy_to_user(arg, &req, sizeof(req)))
			ret = -EFAULT;
	}
	bitmap_free(done);
	kvfree(pfns);
	return ret;
}

/* ---- READ_VRAM -------------------------------------------------------------- */

struct egpu_vram_copy {
	void *data;		/* len bytes */
	u8 *resident;		/* one bit per page */
	u64 *dev_pages;		/* one entry per page */
	u64 nr_resident;
};

/* Copy what is resident into @c; f->lock held. */
static void egpu_read_resident(struct egpu *gpu, unsigned long npages,
			       const unsigned long *pfns,
			       struct egpu_vram_copy *c)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		struct page *page = egpu_resident(gpu, pfns[i]);

		c->dev_pages[i] = ~0ULL;
		if (!page)
			continue;
		memcpy(c->data + i * PAGE_SIZE, egpu_page_vram(gpu, page),
		       PAGE_SIZE);
		c->resident[i / 8] |= 1U << (i % 8);
		c->dev_pages[i] = page_to_pfn(page) - gpu->win.private_base_pfn;
		c->nr_resident++;
	}
}

/* User copies happen without f->lock: a fault there may invalidate. */
static int egpu_read_vram_out(const struct egpu_read_vram *req,
			      const struct egpu_vram_copy *c,
			      unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		if (!(c->resident[i / 8] & (1U << (i % 8))))
			continue;
		if (copy_to_user(u64_to_user_ptr(req->buf + i * PAGE_SIZE),
				 c->data + i * PAGE_SIZE, PAGE_SIZE))
			return -EFAULT;
	}
	if (copy_to_user(u64_to_user_ptr(req->resident), c->resident,
			 DIV_ROUND_UP(npages, 8)))
		return -EFAULT;
	if (req->dev_pages &&
	    copy_to_user(u64_to_user_ptr(req->dev_pages), c->dev_pages,
			 npages * sizeof(u64)))
		return -EFAULT;
	return 0;
}

long egpu_ioctl_read_vram(struct egpu_file *f, void __user *arg)
{
	struct egpu_vram_copy c = {};
	struct egpu_read_vram req;
	unsigned long npages, *pfns;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = egpu_check_range(req.addr, req.len, EGPU_MAX_READ_LEN);
	if (ret)
		return ret;
	npages = req.len >> PAGE_SHIFT;
	pfns = kvcalloc(npages, sizeof(*pfns), GFP_KERNEL);
	c.data = kvmalloc(req.len, GFP_KERNEL);
	c.resident = kzalloc(DIV_ROUND_UP(npages, 8), GFP_KERNEL);
	c.dev_pages = kvcalloc(npages, sizeof(u64), GFP_KERNEL);
	ret = -ENOMEM;
	if (!pfns || !c.data || !c.resident || !c.dev_pages)
		goto out;

	ret = egpu_snapshot_lock(f, req.addr, npages, pfns);
	if (ret)
		goto out;
	egpu_read_resident(f->gpu, npages, pfns, &c);
	mutex_unlock(&f->lock);

	ret = egpu_read_vram_out(&req, &c, npages);
	req.nr_resident = c.nr_resident;
	if (!ret && copy_to_user(arg, &req, sizeof(req)))
		ret = -EFAULT;
out:
	kvfree(c.dev_pages);
	kfree(c.resident);
	kvfree(c.data);
	kvfree(pfns);
	return ret;
}

/* ---- eviction at unbind --------------------------------------------------- */

static unsigned long egpu_evict_once(struct egpu *gpu, unsigned long *src,
				     unsigned long *dst)
{
	unsigned long i, n, npages = gpu->npages;

	memset(dst, 0, npages * sizeof(*dst));
	migrate_device_range(src, gpu->win.private_base_pfn, npages);
	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		/* Unbind must not fail: wait for memory rather than lose data. */
		dpage = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);
		lock_page(dpage);
		egpu_copy_to_ram(dpage, egpu_page_vram(gpu, spage));
		dst[i] = migrate_pfn(page_to_pfn(dpage)) |
			 (src[i] & MIGRATE_PFN_WRITE);
	}
	migrate_device_pages(src, dst, npages);
	n = egpu_count_migrated(src, dst, npages);
	migrate_device_finalize(src, dst, npages);
	atomic64_add(n, &gpu->stats.migrate_to_ram_evict);
	return n;
}

/*
 * Every device page still in use goes back to RAM. A page that is locked
 * or pinned at this moment (a CPU fault migrating it, say) is skipped by
 * migrate_device_range(): try again until none is left, since
 * memunmap_pages() would otherwise wait for it forever.
 */
void egpu_evict_all(struct egpu *gpu)
{
	unsigned long *src, *dst;
	unsigned int round;

	src = kvcalloc(gpu->npages, sizeof(*src), GFP_KERNEL | __GFP_NOFAIL);
	dst = kvcalloc(gpu->npages, sizeof(*dst), GFP_KERNEL | __GFP_NOFAIL);
	for (round = 0; atomic_long_read(&gpu->in_use); round++) {
		if (round)
			msleep(20);
		if (round == 500)
			pci_warn(gpu->pdev, "%ld device pages still busy, waiting\n",
				 atomic_long_read(&gpu->in_use));
		egpu_evict_once(gpu, src, dst);
	}
	kvfree(dst);
	kvfree(src);
}
