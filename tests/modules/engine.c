// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_engine: a NIC-speed ODP engine for the benchmarks (test module).
 *
 * /dev/hmm_p2p_engine, see engine_uapi.h. RUN resolves a user range the way
 * an ODP NIC does and moves messages into or out of it with the CPU, at
 * memory speed, so that the cost of resolving (and migrating) pages shows
 * the way it would behind a 25-50 GB/s NIC rather than behind rdma_rxe:
 *
 *   per message:
 *	lock; all pages of the message mirrored? copy; unlock; next
 *	unlock
 *	again:
 *	seq = mmu_interval_read_begin()
 *	mmap_read_lock(); hmm_p2p_range_fault(range, NULL) (or the stock
 *	hmm_range_fault()); mmap_read_unlock()
 *	-EBUSY: again
 *	lock (the invalidate callback takes it too)
 *	mmu_interval_read_retry(seq): unlock, again
 *	record the pfns, mark the pages mirrored, copy, unlock
 *
 * A message goes through the "wire" one page at a time, the way a NIC
 * streams it through its own packet buffer: one page of the engine's,
 * reused for every page of the message. (A wire buffer as long as the
 * message made 1 MiB messages to GPU memory run at a fifth of the speed
 * under TCG in most boots: 287-440 MiB/s against 1929-2783 with one page,
 * one boot, the same GPU pages. Both buffers were contiguous, and their
 * pages met in lockstep; docs/benchmarks.md.)
 *
 * The client is NULL (it accesses memory with the CPU, like rdma_rxe), so
 * a device-private page of a registered provider comes back as its P2PDMA
 * alias, which is in the kernel's direct map. The invalidate callback
 * clears the mirrored bits, as an ODP MR's translation is zapped, and marks
 * written RAM pages dirty, as ib_umem_odp does.
 *
 * FAULT_BENCH times hmm_p2p_range_fault() against hmm_range_fault() over
 * a populated range, pair by pair in alternating order, and reports
 * medians. COPY_BENCH does the same for RUN's copy loop alone: a message
 * of system RAM against one of GPU memory copied through its aliases.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "hmm_p2p.h"
#include "engine_uapi.h"
#include "odp_loop.h"

/* A message whose pages keep being invalidated fails after this long. */
#define ENGINE_RETRY_TIMEOUT	(30 * HZ)

struct engine_file {
	struct mutex lock;		/* one ioctl at a time per file */
};

/* The mirror of one registered range, for the length of one ioctl. */
struct engine_mirror {
	struct mmu_interval_notifier notifier;
	struct mutex lock;		/* the driver lock: invalidate takes it */
	unsigned long start;
	unsigned long npages;
	unsigned long *pfns;		/* hmm pfns of mirrored pages */
	unsigned long *valid;		/* page mirrored */
	unsigned long *alias;		/* page is a P2PDMA alias */
	unsigned long *dirty;		/* written since mirrored */
	u64 invalidations;
};

/*
 * Forget pages [first, first + n), as an ODP MR's translation is zapped;
 * RAM pages written through the mirror are marked dirty then, as
 * ib_umem_odp does. Called with m->lock held.
 */
static void engine_forget(struct engine_mirror *m, unsigned long first,
			  unsigned long n)
{
	unsigned long i = first;

	for_each_set_bit_from(i, m->dirty, first + n)
		if (test_bit(i, m->valid) && !test_bit(i, m->alias))
			set_page_dirty(hmm_pfn_to_page(m->pfns[i]));
	bitmap_clear(m->dirty, first, n);
	bitmap_clear(m->valid, first, n);
}

static bool engine_invalidate(struct mmu_interval_notifier *mni,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct engine_mirror *m = container_of(mni, struct engine_mirror,
					       notifier);
	unsigned long end = m->start + (m->npages << PAGE_SHIFT);
	unsigned long s = max(range->start, m->start);
	unsigned long e = min(range->end, end);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&m->lock);
	else if (!mutex_trylock(&m->lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	if (s < e) {
		s &= PAGE_MASK;
		engine_forget(m, (s - m->start) >> PAGE_SHIFT,
			      (PAGE_ALIGN(e) - s) >> PAGE_SHIFT);
		m->invalidations++;
	}
	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops engine_notifier_ops = {
	.invalidate = engine_invalidate,
};

static void engine_mirror_free(struct engine_mirror *m)
{
	kvfree(m->pfns);
	bitmap_free(m->valid);
	bitmap_free(m->alias);
	bitmap_free(m->dirty);
	kfree(m);
}

static struct engine_mirror *engine_mirror_create(u64 addr, u64 len)
{
	struct engine_mirror *m;
	int ret;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	mutex_init(&m->lock);
	m->start = addr;
	m->npages = len >> PAGE_SHIFT;
	m->pfns = kvcalloc(m->npages, sizeof(*m->pfns), GFP_KERNEL);
	m->valid = bitmap_zalloc(m->npages, GFP_KERNEL);
	m->alias = bitmap_zalloc(m->npages, GFP_KERNEL);
	m->dirty = bitmap_zalloc(m->npages, GFP_KERNEL);
	if (!m->pfns || !m->valid || !m->alias || !m->dirty) {
		engine_mirror_free(m);
		return ERR_PTR(-ENOMEM);
	}
	ret = mmu_interval_notifier_insert(&m->notifier, current->mm, addr, len,
					   &engine_notifier_ops);
	if (ret) {
		engine_mirror_free(m);
		return ERR_PTR(ret);
	}
	return m;
}

static void engine_mirror_destroy(struct engine_mirror *m)
{
	mutex_lock(&m->lock);
	engine_forget(m, 0, m->npages);
	mutex_unlock(&m->lock);
	mmu_interval_notifier_remove(&m->notifier);
	engine_mirror_free(m);
}

static int engine_check_range(u64 addr, u64 len)
{
	u64 end;

	if (!len || len > ENGINE_MAX_LEN || !PAGE_ALIGNED(addr) ||
	    !PAGE_ALIGNED(len) || check_add_overflow(addr, len, &end) ||
	    end > TASK_SIZE)
		return -EINVAL;
	return 0;
}

/* One walk of @range by the selected path. */
static int engine_walk(struct hmm_range *range, bool p2p)
{
	struct mm_struct *mm = range->notifier->mm;
	int ret;

	mmap_read_lock(mm);
	ret = p2p ? hmm_p2p_range_fault(range, NULL) : hmm_range_fault(range);
	mmap_read_unlock(mm);
	return ret;
}

/* engine_walk() as the canonical loop's callback; @arg is the run. */
static int engine_run_walk(struct hmm_range *range, void *arg)
{
	struct engine_run *r = arg;

	return engine_walk(range, r->mode == ENGINE_MODE_P2P);
}

/*
 * The canonical loop for pages [first, first + n): returns 0 with m->lock
 * held and the pages mirrored, or an error without the lock.
 */
static int engine_fault_lock(struct engine_mirror *m, struct engine_run *r,
			     unsigned long first, unsigned long n,
			     unsigned long *scratch)
{
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = m->start + (first << PAGE_SHIFT),
		.end = m->start + ((first + n) << PAGE_SHIFT),
		.hmm_pfns = scratch,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (r->dir == ENGINE_DIR_WRITE ? HMM_PFN_REQ_WRITE : 0),
	};
	u64 t0 = ktime_get_ns();
	unsigned long i;
	int ret;

	ret = test_odp_fault_and_lock(&range, &m->lock, ENGINE_RETRY_TIMEOUT,
				      engine_run_walk, r, &r->retries);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct page *page;

		if (!(scratch[i] & HMM_PFN_VALID)) {
			mutex_unlock(&m->lock);
			return -EFAULT;
		}
		page = hmm_pfn_to_page(scratch[i]);
		m->pfns[first + i] = scratch[i];
		if (is_pci_p2pdma_page(page)) {
			__set_bit(first + i, m->alias);
			r->p2p_pages++;
		} else {
			__clear_bit(first + i, m->alias);
		}
	}
	bitmap_set(m->valid, first, n);
	r->faults++;
	r->fault_pages += n;
	r->fault_ns += ktime_get_ns() - t0;
	return 0;
}

/* Move one message; called with m->lock held and its pages mirrored. */
static void engine_copy(struct engine_mirror *m, struct engine_run *r,
			unsigned long first, unsigned long n, u8 *wire)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *kaddr = kmap_local_page(hmm_pfn_to_page(m->pfns[first + i]));

		if (r->dir == ENGINE_DIR_WRITE)
			memcpy(kaddr, wire, PAGE_SIZE);
		else
			memcpy(wire, kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
	}
	if (r->dir == ENGINE_DIR_WRITE)
		bitmap_set(m->dirty, first, n);
}

static int engine_run_msgs(struct engine_mirror *m, struct engine_run *r,
			   u8 *wire, unsigned long *scratch)
{
	unsigned long n = r->msg_size >> PAGE_SHIFT;
	u64 slots = r->len / r->msg_size;
	u64 t0 = ktime_get_ns();
	u64 deadline = t0 + (u64)r->max_ms * NSEC_PER_MSEC;
	u64 msg;
	int ret = 0;

	for (msg = 0; msg < r->max_msgs; msg++) {
		unsigned long first = (msg % slots) * n;

		mutex_lock(&m->lock);
		if (find_next_zero_bit(m->valid, first + n, first) < first + n) {
			mutex_unlock(&m->lock);
			ret = engine_fault_lock(m, r, first, n, scratch);
			if (ret)
				break;
		}
		engine_copy(m, r, first, n, wire);
		mutex_unlock(&m->lock);
		r->msgs++;
		r->bytes += r->msg_size;
		if (r->max_ms && ktime_get_ns() > deadline)
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	r->ns = ktime_get_ns() - t0;
	return ret;
}

/* A message of @msg_size bytes over a range of @len, moved in @dir. */
static bool engine_msg_valid(u64 msg_size, u64 len, u32 dir)
{
	return msg_size && PAGE_ALIGNED(msg_size) && msg_size <= len &&
	       msg_size <= ENGINE_MAX_MSG &&
	       (dir == ENGINE_DIR_WRITE || dir == ENGINE_DIR_READ);
}

/*
 * The wire (one page: the NIC's packet buffer, a pattern) and the pfn
 * scratch array of one message.
 */
static int engine_msg_buffers(u64 msg_size, u8 **wire, unsigned long **scratch)
{
	*wire = kvmalloc(PAGE_SIZE, GFP_KERNEL);
	*scratch = kvcalloc(msg_size >> PAGE_SHIFT, sizeof(**scratch),
			    GFP_KERNEL);
	if (!*wire || !*scratch)
		return -ENOMEM;
	memset(*wire, 0xa5, PAGE_SIZE);
	return 0;
}

static long engine_ioctl_run(void __user *arg)
{
	struct engine_mirror *m;
	unsigned long *scratch;
	struct engine_run r;
	u8 *wire;
	int ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	ret = engine_check_range(r.addr, r.len);
	if (ret)
		return ret;
	if (!engine_msg_valid(r.msg_size, r.len, r.dir) || r.reserved ||
	    (r.mode != ENGINE_MODE_P2P && r.mode != ENGINE_MODE_STOCK))
		return -EINVAL;
	r.msgs = 0;
	r.bytes = 0;
	r.ns = 0;
	r.faults = 0;
	r.fault_pages = 0;
	r.fault_ns = 0;
	r.retries = 0;
	r.invalidations = 0;
	r.p2p_pages = 0;

	ret = engine_msg_buffers(r.msg_size, &wire, &scratch);
	if (ret)
		goto out_free;
	m = engine_mirror_create(r.addr, r.len);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_free;
	}
	ret = engine_run_msgs(m, &r, wire, scratch);
	mutex_lock(&m->lock);
	r.invalidations = m->invalidations;
	mutex_unlock(&m->lock);
	engine_mirror_destroy(m);
	if (copy_to_user(arg, &r, sizeof(r)) && !ret)
		ret = -EFAULT;
out_free:
	kvfree(scratch);
	kvfree(wire);
	return ret;
}

/* ---- FAULT_BENCH -------------------------------------------------------- */

static int engine_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 engine_median(u64 *v, u32 n)
{
	sort(v, n, sizeof(*v), engine_cmp_u64, NULL);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One timed walk, repeated after -EBUSY; the time of the successful one. */
static int engine_timed_walk(struct hmm_range *range, bool p2p, u64 *ns,
			     u64 *retries)
{
	unsigned long timeout = jiffies + ENGINE_RETRY_TIMEOUT;
	u64 t0;
	int ret;

	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, timeout))
			return -EBUSY;
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		t0 = ktime_get_ns();
		ret = engine_walk(range, p2p);
		*ns = ktime_get_ns() - t0;
		if (ret != -EBUSY)
			return ret;
		(*retries)++;
	}
}

static int engine_fault_bench_run(struct engine_mirror *m,
				  struct engine_fault_bench *b, u64 *p2p,
				  u64 *stock, u64 *ratio)
{
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = b->addr,
		.end = b->addr + b->len,
		.hmm_pfns = m->pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
	};
	u32 i;
	int ret;

	/* One untimed walk of each: populate, warm the caches. */
	ret = engine_timed_walk(&range, false, &stock[0], &b->retries);
	if (!ret)
		ret = engine_timed_walk(&range, true, &p2p[0], &b->retries);
	for (i = 0; !ret && i < b->reps; i++) {
		/* Alternate the order, so neither always runs second. */
		bool p2p_first = !(i & 1);

		ret = engine_timed_walk(&range, p2p_first,
					p2p_first ? &p2p[i] : &stock[i],
					&b->retries);
		if (!ret)
			ret = engine_timed_walk(&range, !p2p_first,
						p2p_first ? &stock[i] : &p2p[i],
						&b->retries);
		if (!ret)
			ratio[i] = div64_u64(p2p[i] * 1000000, max(stock[i], 1ULL));
		cond_resched();
	}
	return ret;
}

static long engine_ioctl_fault_bench(void __user *arg)
{
	struct engine_fault_bench b;
	u64 *p2p, *stock, *ratio;
	struct engine_mirror *m;
	int ret;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	ret = engine_check_range(b.addr, b.len);
	if (ret)
		return ret;
	if (!b.reps || b.reps > ENGINE_MAX_REPS || b.reserved)
		return -EINVAL;
	b.retries = 0;
	p2p = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	stock = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	ratio = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	if (!p2p || !stock || !ratio) {
		ret = -ENOMEM;
		goto out_free;
	}
	m = engine_mirror_create(b.addr, b.len);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_free;
	}
	ret = engine_fault_bench_run(m, &b, p2p, stock, ratio);
	engine_mirror_destroy(m);
	if (ret)
		goto out_free;
	b.ratio_ppm_median = engine_median(ratio, b.reps);
	b.p2p_ns_median = engine_median(p2p, b.reps);
	b.stock_ns_median = engine_median(stock, b.reps);
	/* Sorted by engine_median(). */
	b.p2p_ns_min = p2p[0];
	b.stock_ns_min = stock[0];
	if (copy_to_user(arg, &b, sizeof(b)))
		ret = -EFAULT;
out_free:
	kvfree(p2p);
	kvfree(stock);
	kvfree(ratio);
	return ret;
}

/* ---- COPY_BENCH --------------------------------------------------------- */

/*
 * One message of RUN, with only its copy timed: the pages are resolved
 * first (untimed) if any of them is not mirrored.
 */
static int engine_copy_timed(struct engine_mirror *m, struct engine_run *r,
			     unsigned long first, unsigned long n, u8 *wire,
			     unsigned long *scratch, u64 *ns)
{
	u64 t0;
	int ret;

	mutex_lock(&m->lock);
	if (find_next_zero_bit(m->valid, first + n, first) < first + n) {
		mutex_unlock(&m->lock);
		ret = engine_fault_lock(m, r, first, n, scratch);
		if (ret)
			return ret;
	}
	t0 = ktime_get_ns();
	engine_copy(m, r, first, n, wire);
	*ns = ktime_get_ns() - t0;
	mutex_unlock(&m->lock);
	return 0;
}

/* Pairs of messages, RAM and GPU memory in alternating order. */
static int engine_copy_bench_run(struct engine_mirror *ram,
				 struct engine_mirror *gpu,
				 struct engine_copy_bench *b, u8 *wire,
				 unsigned long *scratch, u64 *t_ram, u64 *t_gpu,
				 u64 *ratio)
{
	struct engine_run r_ram = { .mode = ENGINE_MODE_P2P, .dir = b->dir };
	struct engine_run r_gpu = r_ram;
	unsigned long n = b->msg_size >> PAGE_SHIFT;
	u64 slots = b->len / b->msg_size, warm;
	u32 i;
	int ret = 0;

	/* Every message once, untimed: resolve the pages, warm the caches. */
	for (i = 0; !ret && i < slots; i++) {
		ret = engine_copy_timed(ram, &r_ram, i * n, n, wire, scratch,
					&warm);
		if (!ret)
			ret = engine_copy_timed(gpu, &r_gpu, i * n, n, wire,
						scratch, &warm);
	}
	for (i = 0; !ret && i < b->reps; i++) {
		unsigned long first = (i % slots) * n;
		bool ram_first = !(i & 1);

		ret = engine_copy_timed(ram_first ? ram : gpu,
					ram_first ? &r_ram : &r_gpu, first, n,
					wire, scratch, ram_first ? &t_ram[i] : &t_gpu[i]);
		if (!ret)
			ret = engine_copy_timed(ram_first ? gpu : ram,
						ram_first ? &r_gpu : &r_ram, first,
						n, wire, scratch,
						ram_first ? &t_gpu[i] : &t_ram[i]);
		if (!ret)
			ratio[i] = div64_u64(t_ram[i] * 1000000,
					     max(t_gpu[i], 1ULL));
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	b->gpu_alias_pages = r_gpu.p2p_pages;
	b->ram_alias_pages = r_ram.p2p_pages;
	b->retries = r_ram.retries + r_gpu.retries;
	return ret;
}

static long engine_ioctl_copy_bench(void __user *arg)
{
	struct engine_mirror *ram = NULL, *gpu = NULL;
	u64 *t_ram = NULL, *t_gpu = NULL, *ratio = NULL;
	unsigned long *scratch = NULL;
	struct engine_copy_bench b;
	u8 *wire = NULL;
	int ret;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	ret = engine_check_range(b.ram_addr, b.len);
	if (!ret)
		ret = engine_check_range(b.gpu_addr, b.len);
	if (ret)
		return ret;
	if (!b.reps || b.reps > ENGINE_MAX_REPS ||
	    !engine_msg_valid(b.msg_size, b.len, b.dir))
		return -EINVAL;
	t_ram = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	t_gpu = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	ratio = kvcalloc(b.reps, sizeof(u64), GFP_KERNEL);
	ret = engine_msg_buffers(b.msg_size, &wire, &scratch);
	if (!ret && (!t_ram || !t_gpu || !ratio))
		ret = -ENOMEM;
	if (ret)
		goto out_free;
	ram = engine_mirror_create(b.ram_addr, b.len);
	if (IS_ERR(ram)) {
		ret = PTR_ERR(ram);
		ram = NULL;
		goto out_free;
	}
	gpu = engine_mirror_create(b.gpu_addr, b.len);
	if (IS_ERR(gpu)) {
		ret = PTR_ERR(gpu);
		gpu = NULL;
		goto out_free;
	}
	ret = engine_copy_bench_run(ram, gpu, &b, wire, scratch, t_ram, t_gpu,
				    ratio);
	if (ret)
		goto out_free;
	b.ratio_ppm_median = engine_median(ratio, b.reps);
	b.ram_ns_median = engine_median(t_ram, b.reps);
	b.gpu_ns_median = engine_median(t_gpu, b.reps);
	if (copy_to_user(arg, &b, sizeof(b)))
		ret = -EFAULT;
out_free:
	if (gpu)
		engine_mirror_destroy(gpu);
	if (ram)
		engine_mirror_destroy(ram);
	kvfree(scratch);
	kvfree(wire);
	kvfree(ratio);
	kvfree(t_gpu);
	kvfree(t_ram);
	return ret;
}

/* ---- device file ---------------------------------------------------------- */

static int engine_open(struct inode *inode, struct file *file)
{
	struct engine_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return stream_open(inode, file);
}

static int engine_release_file(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static long engine_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct engine_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (mutex_lock_interruptible(&f->lock))
		return -EINTR;
	switch (cmd) {
	case ENGINE_IOC_RUN:
		ret = engine_ioctl_run(uarg);
		break;
	case ENGINE_IOC_FAULT_BENCH:
		ret = engine_ioctl_fault_bench(uarg);
		break;
	case ENGINE_IOC_COPY_BENCH:
		ret = engine_ioctl_copy_bench(uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static const struct file_operations engine_fops = {
	.owner = THIS_MODULE,
	.open = engine_open,
	.release = engine_release_file,
	.unlocked_ioctl = engine_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice engine_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hmm_p2p_engine",
	.fops = &engine_fops,
};

static int __init engine_init(void)
{
	int ret = misc_register(&engine_misc);

	if (ret)
		pr_err("cannot register /dev/%s: %d\n", engine_misc.name, ret);
	return ret;
}

static void __exit engine_exit(void)
{
	misc_deregister(&engine_misc);
}

module_init(engine_init);
module_exit(engine_exit);
MODULE_DESCRIPTION("hmm-p2p test: NIC-speed ODP engine for the benchmarks");
MODULE_LICENSE("GPL");
