// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5_odp_p2p: makes the stock RDMA ODP path ask hmm-p2p for P2P aliases,
 * for selected ib devices (mlx5 by default, rdma_rxe for tests).
 *
 * The stock path never asks: ib_umem_odp_map_dma_and_lock() faults with
 * dev_private_owner = NULL, so every device-private page is migrated to RAM.
 * Three exported, ftrace-able functions are hooked (compat/hook.h):
 *
 *  - ib_umem_odp_map_dma_and_lock(): for an enabled device, remember for
 *    the current task "faulting this umem for this client" and call the
 *    original;
 *  - the fault entry it uses (hmm_range_fault_unlocked_timeout() on 7.3,
 *    hmm_range_fault() before): when called by that task for that umem's
 *    notifier, fault through hmm-p2p's variant of the same entry (which
 *    keeps its lock drop, fatal signals and retry budget) with the ib
 *    device's DMA device as client (NULL for rxe, which copies with the
 *    CPU); every other caller gets the original untouched;
 *  - ib_umem_odp_unmap_dma_pages(): P2P slots lose their WRITE bit before
 *    the original unmaps them, so an alias page is never set_page_dirty()'d
 *    like a normal page.
 *
 * On 7.x the driver DMA-maps the pfns itself with hmm_dma_map_pfn(), which
 * is P2P-aware, and hmm-p2p only hands out aliases the client can reach, so
 * the fallback (migration) is decided page by page before the driver sees
 * anything. Invalidation needs nothing from us: a migration of the page
 * invalidates the umem's notifier like any other, and a provider keeps its
 * BAR window until its pages have left VRAM (the lifetime contract in
 * hmm_p2p.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/hmm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/oom.h>
#include <linux/sched.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <rdma/ib_umem_odp.h>
#include <rdma/ib_verbs.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"
#include "hook.h"
#include "internal.h"

/* ---- parameters --------------------------------------------------------- */

static bool enable = true;
module_param(enable, bool, 0644);
MODULE_PARM_DESC(enable,
		 "Route ODP faults of the selected devices through hmm-p2p (default Y); N restores the stock path at once");

static const struct {
	const char *name;
	enum rdma_driver_id id;
} known_drivers[] = {
	{ "mlx5", RDMA_DRIVER_MLX5 },
	{ "rxe", RDMA_DRIVER_RXE },
};

static char devices[64] = "mlx5";
static unsigned long selected_drivers = BIT(RDMA_DRIVER_MLX5);

/* Parse "mlx5,rxe" or "none" into a mask of rdma_driver_id bits. */
static int parse_devices(const char *val, unsigned long *mask)
{
	char buf[sizeof(devices)], *cur = buf, *tok;
	unsigned int i;

	*mask = 0;
	if (strscpy(buf, val, sizeof(buf)) < 0)
		return -EINVAL;
	cur = strim(buf);
	if (!strcmp(cur, "none"))
		return 0;
	while ((tok = strsep(&cur, ","))) {
		tok = strim(tok);
		for (i = 0; i < ARRAY_SIZE(known_drivers); i++)
			if (!strcmp(tok, known_drivers[i].name))
				break;
		if (i == ARRAY_SIZE(known_drivers))
			return -EINVAL;
		*mask |= BIT(known_drivers[i].id);
	}
	return 0;
}

/* On -EINVAL the kernel logs the one line: "`val' invalid for parameter". */
static int devices_set(const char *val, const struct kernel_param *kp)
{
	char buf[sizeof(devices)];
	unsigned long mask;
	int ret;

	if (parse_devices(val, &mask))
		return -EINVAL;
	/*
	 * Stored trimmed: "echo rxe > devices" hands over "rxe\n", which would
	 * break the one-line state text (and the load line) in two.
	 */
	strscpy(buf, val, sizeof(buf));
	ret = param_set_copystring(strim(buf), kp);
	if (!ret)
		WRITE_ONCE(selected_drivers, mask);
	return ret;
}

static const struct kernel_param_ops devices_ops = {
	.set = devices_set,
	.get = param_get_string,
};

static struct kparam_string devices_param = {
	.maxlen = sizeof(devices),
	.string = devices,
};
module_param_cb(devices, &devices_ops, &devices_param, 0644);
MODULE_PARM_DESC(devices,
		 "ib drivers whose ODP memory regions go peer-to-peer: comma-separated list of mlx5, rxe, or none (default mlx5; writable at run time)");

/* ---- which ODP faults want P2P ------------------------------------------ */

#if ODP_P2P_SUPPORTED

/*
 * Every replacement runs its body inside a read section of this: unloading
 * waits for the ones in flight after the hooks are gone, and for the tasks
 * still on their way out (hmm_p2p_hooks_quiesce()).
 */
DEFINE_STATIC_SRCU(odp_srcu);

/* "current is faulting @odp for @client": lives on the hook's stack. */
struct odp_fault_ctx {
	struct hlist_node node;
	struct task_struct *task;
	struct ib_umem_odp *odp;
	struct device *client;
};

/*
 * Contexts by task, one lock per bucket: every hooked call looks here (on
 * 7.2 every hmm_range_fault() caller of the machine, on 7.3 every caller
 * of hmm_range_fault_unlocked_timeout()), so faults of different tasks
 * share no lock and no counter, and a call whose bucket is empty takes no
 * lock at all. Only current adds and removes its own contexts, so it sees
 * every one it pushed without the lock.
 */
#define ODP_CTX_BITS 8

struct odp_ctx_bucket {
	spinlock_t lock;	/* head, against other tasks' pushes and pops */
	struct hlist_head head;
} ____cacheline_aligned_in_smp;

static struct odp_ctx_bucket odp_ctx_buckets[1 << ODP_CTX_BITS];

/* Before the hooks: one lock class for every bucket. */
static void odp_ctx_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(odp_ctx_buckets); i++) {
		spin_lock_init(&odp_ctx_buckets[i].lock);
		INIT_HLIST_HEAD(&odp_ctx_buckets[i].head);
	}
}

static struct odp_ctx_bucket *ctx_bucket(void)
{
	return &odp_ctx_buckets[hash_ptr(current, ODP_CTX_BITS)];
}

bool odp_device_selected(struct ib_device *ibdev)
{
	return READ_ONCE(enable) && ibdev &&
	       ibdev->ops.driver_id < BITS_PER_LONG &&
	       (READ_ONCE(selected_drivers) & BIT(ibdev->ops.driver_id));
}

static void ctx_push(struct odp_fault_ctx *ctx, struct ib_umem_odp *odp)
{
	struct odp_ctx_bucket *b = ctx_bucket();

	ctx->task = current;
	ctx->odp = odp;
	ctx->client = odp->umem.ibdev->dma_device;
	spin_lock(&b->lock);
	hlist_add_head(&ctx->node, &b->head);
	spin_unlock(&b->lock);
}

static void ctx_pop(struct odp_fault_ctx *ctx)
{
	struct odp_ctx_bucket *b = ctx_bucket();

	spin_lock(&b->lock);
	hlist_del(&ctx->node);
	spin_unlock(&b->lock);
}

/* The context of a range ib_umem_odp is faulting for us, or NULL. */
static struct odp_fault_ctx *ctx_find(struct hmm_range *range)
{
	struct odp_ctx_bucket *b = ctx_bucket();
	struct odp_fault_ctx *ctx, *found = NULL;

	if (hlist_empty(&b->head))
		return NULL;
	spin_lock(&b->lock);
	hlist_for_each_entry(ctx, &b->head, node)
		if (ctx->task == current &&
		    range->notifier == &ctx->odp->notifier)
			found = ctx;
	spin_unlock(&b->lock);
	return found;
}

/* ---- the hooks ---------------------------------------------------------- */

/*
 * A replacement holds a module reference while it runs: one may wait as
 * long as the fault it serves (an unanswered userfaultfd), and rmmod then
 * says the module is in use instead of waiting for it. Once the module is
 * going, new calls are not redirected (compat/hook.c); those redirected
 * before go to the original, still inside the SRCU read section: the call returns
 * into this module's text, which the exit's hmm_p2p_hooks_quiesce() must
 * therefore wait for. A task sleeping in it is invisible to RCU Tasks.
 */
static bool odp_enter(void)
{
	return try_module_get(THIS_MODULE);
}

static void odp_leave(void)
{
	module_put(THIS_MODULE);
}

static int odp_map_dma_and_lock(struct ib_umem_odp *umem_odp, u64 user_virt,
				u64 bcnt, u64 access_mask, bool fault)
{
	struct odp_fault_ctx ctx;
	int idx, ret;

	idx = srcu_read_lock(&odp_srcu);
	if (!odp_enter()) {
		ret = ib_umem_odp_map_dma_and_lock(umem_odp, user_virt, bcnt,
						   access_mask, fault);
		srcu_read_unlock(&odp_srcu, idx);
		return ret;
	}
	if (!odp_device_selected(umem_odp->umem.ibdev)) {
		ret = ib_umem_odp_map_dma_and_lock(umem_odp, user_virt, bcnt,
						   access_mask, fault);
	} else {
		ctx_push(&ctx, umem_odp);
		ret = ib_umem_odp_map_dma_and_lock(umem_odp, user_virt, bcnt,
						   access_mask, fault);
		ctx_pop(&ctx);
	}
	odp_leave();
	srcu_read_unlock(&odp_srcu, idx);
	return ret;
}

#ifdef HMM_P2P_HAVE_HMM_RANGE_FAULT_UNLOCKED_TIMEOUT
/*
 * 7.3: ib_umem_odp faults through hmm_range_fault_unlocked_timeout(), which
 * lets handle_mm_fault() drop the mmap lock (ODP over userfaultfd memory
 * needs it) and honours fatal signals. hmm_p2p's unlocked variant keeps all
 * of that; only the device-private pages it can alias are answered
 * differently.
 */
static int odp_fault_entry(struct hmm_range *range, unsigned long timeout)
{
	struct odp_fault_ctx *ctx;
	int idx, ret;

	idx = srcu_read_lock(&odp_srcu);
	if (!odp_enter()) {
		ret = hmm_range_fault_unlocked_timeout(range, timeout);
		srcu_read_unlock(&odp_srcu, idx);
		return ret;
	}
	ctx = ctx_find(range);
	if (ctx) {
		ret = hmm_p2p_range_fault_unlocked_timeout(range, timeout,
							   ctx->client);
	} else {
		ret = hmm_range_fault_unlocked_timeout(range, timeout);
	}
	odp_leave();
	srcu_read_unlock(&odp_srcu, idx);
	return ret;
}

static struct hmm_p2p_hook fault_hook =
	HMM_P2P_HOOK(hmm_range_fault_unlocked_timeout, odp_fault_entry);
#else
/* Up to 7.2 ib_umem_odp calls hmm_range_fault() with the mmap lock held. */
static int odp_fault_entry(struct hmm_range *range)
{
	struct odp_fault_ctx *ctx;
	int idx, ret;

	idx = srcu_read_lock(&odp_srcu);
	if (!odp_enter()) {
		ret = hmm_range_fault(range);
		srcu_read_unlock(&odp_srcu, idx);
		return ret;
	}
	ctx = ctx_find(range);
	if (ctx)
		ret = hmm_p2p_range_fault(range, ctx->client);
	else
		ret = hmm_range_fault(range);
	odp_leave();
	srcu_read_unlock(&odp_srcu, idx);
	return ret;
}

static struct hmm_p2p_hook fault_hook =
	HMM_P2P_HOOK(hmm_range_fault, odp_fault_entry);
#endif

/*
 * hmm_dma_map_pfn() tags P2P slots with HMM_PFN_P2PDMA(_BUS); the original
 * then set_page_dirty()s every WRITE slot it unmaps. An alias is not a page
 * of the file or anonymous memory behind the mapping: drop its WRITE bit
 * first (the original clears all flags of the slot anyway).
 */
static void odp_unmap_dma_pages(struct ib_umem_odp *umem_odp, u64 virt,
				u64 bound)
{
	const unsigned long p2p = HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS;
	u64 addr, start, end;
	int idx;

	idx = srcu_read_lock(&odp_srcu);
	if (!odp_enter()) {
		ib_umem_odp_unmap_dma_pages(umem_odp, virt, bound);
		srcu_read_unlock(&odp_srcu, idx);
		return;
	}
	if (hmm_p2p_aliases_handed_out()) {
		start = max_t(u64, virt, ib_umem_start(umem_odp));
		end = min_t(u64, bound, ib_umem_end(umem_odp));
		for (addr = start; addr < end; addr += BIT(umem_odp->page_shift)) {
			unsigned long *pfn = &umem_odp->map.pfn_list
				[(addr - ib_umem_start(umem_odp)) >> umem_odp->page_shift];

			if (*pfn & p2p)
				*pfn &= ~HMM_PFN_WRITE;
		}
	}
	ib_umem_odp_unmap_dma_pages(umem_odp, virt, bound);
	odp_leave();
	srcu_read_unlock(&odp_srcu, idx);
}

static struct hmm_p2p_hook map_hook =
	HMM_P2P_HOOK(ib_umem_odp_map_dma_and_lock, odp_map_dma_and_lock);
static struct hmm_p2p_hook unmap_hook =
	HMM_P2P_HOOK(ib_umem_odp_unmap_dma_pages, odp_unmap_dma_pages);

/* Order matters: the unmap hook first, the map hook (the trigger) last. */
static struct hmm_p2p_hook *const hooks[] = {
	&unmap_hook, &fault_hook, &map_hook,
};

static void hooks_remove(void)
{
	hmm_p2p_hooks_remove(hooks, ARRAY_SIZE(hooks));
	/* Replacements still running (they may sleep) finish before we go. */
	hmm_p2p_hooks_quiesce(&odp_srcu);
}

static int hooks_install(void)
{
	int ret;

	odp_ctx_init();
	ret = hmm_p2p_hooks_install(hooks, ARRAY_SIZE(hooks));

	/* The hooks in before the one that failed may have redirected tasks. */
	if (ret)
		hmm_p2p_hooks_quiesce(&odp_srcu);
	return ret;
}
#else /* !ODP_P2P_SUPPORTED */
static int hooks_install(void)
{
	return 0;
}

static void hooks_remove(void)
{
}
#endif

/*
 * The ODP path the probes recognised, or NULL. Three shapes exist:
 *  - 6.16+: pfns in umem_odp->map, the driver DMA-maps them (P2P-aware);
 *    ib_umem_odp faults with hmm_range_fault_unlocked_timeout() (Debian
 *    7.3) or hmm_range_fault() (up to 7.2);
 *  - up to 6.15: pfn_list/dma_list, ib_umem_odp maps each page itself.
 */
static const char *odp_layout(void)
{
#if defined(HMM_P2P_HAVE_IB_UMEM_ODP_MAP) && \
	defined(HMM_P2P_HAVE_HMM_RANGE_FAULT_UNLOCKED_TIMEOUT)
	return "hmm_dma_map, faults through hmm_range_fault_unlocked_timeout";
#elif defined(HMM_P2P_HAVE_IB_UMEM_ODP_MAP)
	return "hmm_dma_map, faults through hmm_range_fault";
#elif defined(HMM_P2P_HAVE_IB_UMEM_ODP_DMA_LIST)
	return "pfn_list/dma_list, ib_umem_odp maps pages";
#else
	return NULL;
#endif
}

/*
 * "active" or "idle" and why, for a loaded module (its layout is known): the
 * load line and the state parameter both say it from here. devices and
 * enable are read as they are now (the parameter's read holds the module's
 * parameter lock, which their writers hold too).
 */
static const char *describe_state(char *buf, size_t size)
{
	size_t len;

	if (!ODP_P2P_SUPPORTED) {
		snprintf(buf, size,
			 "ODP layout %s; P2P for this layout is not implemented",
			 odp_layout());
		return "idle";
	}
	len = scnprintf(buf, size, "ODP layout %s; devices=%s%s%s; ",
			odp_layout(), devices,
			READ_ONCE(enable) ? "" : " (disabled: enable=N)",
			odp_ats_requested() ? "; ats=Y" : "");
	hmm_p2p_describe_reach(buf + len, size - len);
	return "active";
}

static int state_get(char *buf, const struct kernel_param *kp)
{
	char why[HMM_P2P_STATE_LEN];
	const char *state = describe_state(why, sizeof(why));

	return sysfs_emit(buf, "%s: %s\n", state, why);
}

static const struct kernel_param_ops state_ops = {
	.set = hmm_p2p_param_set_readonly,
	.get = state_get,
};

module_param_cb(state, &state_ops, NULL, 0444);
MODULE_PARM_DESC(state,
		 "Read-only: \"active: ...\" or \"idle: <why>\", as the load line says it");

static int __init mlx5_odp_p2p_init(void)
{
	const char *layout = odp_layout();
	const char *hooks_why = hmm_p2p_hook_unsupported_reason();
	const char *state;
	char why[HMM_P2P_STATE_LEN];
	int ret;

	if (!layout) {
		pr_err("version %s cannot run on %s: the ib_umem_odp layout is not recognised (probes have_ib_umem_odp_map and have_ib_umem_odp_dma_list both failed)\n",
		       HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE);
		return -EOPNOTSUPP;
	}
	if (hooks_why) {
		pr_err("version %s cannot run on %s: %s\n", HMM_P2P_VERSION,
		       HMM_P2P_KERNELRELEASE, hooks_why);
		return -EOPNOTSUPP;
	}
	if (odp_ats_requested() && odp_ats_unsupported_reason()) {
		pr_err("version %s: ats=Y is not supported on %s: %s\n",
		       HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE,
		       odp_ats_unsupported_reason());
		return -EOPNOTSUPP;
	}
	if (!ODP_P2P_SUPPORTED) {
		state = describe_state(why, sizeof(why));
		pr_info("version %s %s on %s: %s\n", HMM_P2P_VERSION, state,
			HMM_P2P_KERNELRELEASE, why);
		return 0;
	}
	ret = hooks_install();
	if (ret)
		return ret;	/* the engine logged which function and why */
	if (odp_ats_requested()) {
		ret = odp_ats_install();
		if (ret) {
			hooks_remove();
			return ret;
		}
	}
	state = describe_state(why, sizeof(why));
	pr_info("version %s %s on %s: %s\n", HMM_P2P_VERSION, state,
		HMM_P2P_KERNELRELEASE, why);
	return 0;
}

static void __exit mlx5_odp_p2p_exit(void)
{
	if (odp_ats_requested())
		odp_ats_remove();
	hooks_remove();
}

module_init(mlx5_odp_p2p_init);
module_exit(mlx5_odp_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p consumer: peer-to-peer RDMA ODP for device-private memory");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
