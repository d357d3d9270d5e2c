// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5_odp_p2p: ATS for mlx5 ODP memory regions (patch 5 of the upstream
 * series), only with ats=Y. Untested here: there is no ConnectX hardware.
 *
 * Upstream makes mlx5_umem_needs_ats() accept ODP umems (ATS-capable device
 * and IB_ACCESS_RELAXED_ORDERING still required), so the MR's mkey does ATS
 * translation and P2P traffic may take the PCIe switch path instead of the
 * root complex. That helper is an inline of mlx5_ib. What it decides lands
 * in mr->frmr.key.ats just before ib_frmr_pool_pop(), which takes an mkey
 * from (or creates) the pool of mkeys with that key. Three exported,
 * ftrace-able ib_core functions are hooked:
 *
 *  - ib_umem_odp_get(): when it returns an ODP umem of a selected mlx5
 *    device registered with IB_ACCESS_RELAXED_ORDERING, remember "this task
 *    wants ATS for its next mkey on this device";
 *  - ib_frmr_pool_pop(): the first pop of that task on that device takes
 *    the wish, and sets key.ats before the original only if the key is the
 *    one of that umem (its number of DMA blocks at the umem's own page
 *    size: mr->umem is set only after the pop), so a wish whose
 *    registration never reached its pop can reach no other MR. ATS mkeys
 *    live in their own pool, and the MR returns its mkey there on
 *    deregistration (its key says ats), so no other MR gets one. A device
 *    that cannot do ATS makes mlx5 refuse that key (-EOPNOTSUPP): the MR
 *    then gets the stock mkey;
 *  - ib_umem_release(): a umem released before any pop (an error path)
 *    takes its wish along.
 *
 * mlx5's create_user_odp_mr() calls ib_umem_odp_get() and then, for that
 * umem, ib_frmr_pool_pop(), with no other pop in between.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <rdma/ib_umem_odp.h>
#include <rdma/ib_verbs.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"
#include "hook.h"
#include "internal.h"

#ifdef HMM_P2P_HAVE_IB_FRMR_POOL_ATS
#include <rdma/frmr_pools.h>
#endif

static bool ats;
module_param(ats, bool, 0444);
MODULE_PARM_DESC(ats,
		 "Create the mkeys of mlx5 ODP memory regions registered with IB_ACCESS_RELAXED_ORDERING with ATS translation (default N; set at load time; untested without ConnectX hardware)");

static atomic_long_t ats_mkeys = ATOMIC_LONG_INIT(0);
static atomic_long_t ats_refused = ATOMIC_LONG_INIT(0);
static atomic_long_t ats_odp_umems = ATOMIC_LONG_INIT(0);

static int counter_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

static const struct kernel_param_ops counter_ops = {
	.set = hmm_p2p_param_set_readonly,	/* no NULL .set at modprobe */
	.get = counter_get,
};

module_param_cb(ats_mkeys, &counter_ops, &ats_mkeys, 0444);
MODULE_PARM_DESC(ats_mkeys,
		 "Read-only counter: ODP memory regions that got an ATS mkey");
module_param_cb(ats_refused, &counter_ops, &ats_refused, 0444);
MODULE_PARM_DESC(ats_refused,
		 "Read-only counter: ODP memory regions whose device refused an ATS mkey (they got the stock one)");
module_param_cb(ats_odp_umems, &counter_ops, &ats_odp_umems, 0444);
MODULE_PARM_DESC(ats_odp_umems,
		 "Read-only counter: ODP umems of any device that the ATS hooks saw created");

bool odp_ats_requested(void)
{
	return ats;
}

#if defined(HMM_P2P_HAVE_IB_FRMR_POOL_ATS) && ODP_P2P_SUPPORTED

/* Replacements finish before unload, like main.c's (they may sleep). */
DEFINE_STATIC_SRCU(ats_srcu);

/* "@task wants ATS for its next mkey on @device, for @odp". */
struct ats_wish {
	struct list_head node;
	struct task_struct *task;
	struct ib_device *device;
	struct ib_umem_odp *odp;
};

static LIST_HEAD(ats_wishes);
static DEFINE_SPINLOCK(ats_lock);
static atomic_t ats_nr_wishes = ATOMIC_INIT(0);

static void ats_wish_add(struct ib_umem_odp *odp, struct ib_device *device)
{
	struct ats_wish *w = kmalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return;	/* no ATS for this MR: the stock mkey */
	w->task = current;
	w->device = device;
	w->odp = odp;
	spin_lock(&ats_lock);
	list_add(&w->node, &ats_wishes);
	atomic_inc(&ats_nr_wishes);
	spin_unlock(&ats_lock);
}

/*
 * Remove the wishes for @umem (of any task: the umem is going away), or all
 * of current's when @umem is NULL.
 */
static void ats_wish_drop(struct ib_umem *umem)
{
	struct ats_wish *w, *tmp;

	if (!atomic_read(&ats_nr_wishes))
		return;
	spin_lock(&ats_lock);
	list_for_each_entry_safe(w, tmp, &ats_wishes, node) {
		if (umem ? &w->odp->umem != umem : w->task != current)
			continue;
		list_del(&w->node);
		atomic_dec(&ats_nr_wishes);
		kfree(w);
	}
	spin_unlock(&ats_lock);
}

static void ats_wishes_free(void)
{
	struct ats_wish *w, *tmp;

	spin_lock(&ats_lock);
	list_for_each_entry_safe(w, tmp, &ats_wishes, node) {
		list_del(&w->node);
		kfree(w);
	}
	atomic_set(&ats_nr_wishes, 0);
	spin_unlock(&ats_lock);
}

static bool ats_wanted(struct ib_device *device, int access)
{
	return odp_device_selected(device) &&
	       device->ops.driver_id == RDMA_DRIVER_MLX5 &&
	       (access & IB_ACCESS_RELAXED_ORDERING);
}

/*
 * As the ODP replacements (main.c), each ATS replacement holds a module
 * reference while it runs: a registration may wait as long as another task
 * holds its mmap lock (ib_umem_odp_get() takes it for writing to register
 * the address space's first mmu notifier), and rmmod then says the module
 * is in use instead of waiting for it. Once the module is going, a call
 * redirected before goes straight to the original.
 */
static bool ats_enter(void)
{
	return try_module_get(THIS_MODULE);
}

static void ats_leave(void)
{
	module_put(THIS_MODULE);
}

static struct ib_umem_odp *
ats_umem_odp_get(struct ib_device *device, unsigned long addr, size_t size,
		 int access, const struct mmu_interval_notifier_ops *ops)
{
	struct ib_umem_odp *odp;
	int idx;

	idx = srcu_read_lock(&ats_srcu);
	if (!ats_enter()) {
		odp = ib_umem_odp_get(device, addr, size, access, ops);
		srcu_read_unlock(&ats_srcu, idx);
		return odp;
	}
	/* A new registration: whatever this task wished before is stale. */
	ats_wish_drop(NULL);
	odp = ib_umem_odp_get(device, addr, size, access, ops);
	if (!IS_ERR(odp))
		atomic_long_inc(&ats_odp_umems);
	if (!IS_ERR(odp) && ats_wanted(device, access))
		ats_wish_add(odp, device);
	ats_leave();
	srcu_read_unlock(&ats_srcu, idx);
	return odp;
}

/*
 * Take current's wish for @device, whatever it is: the pop that follows
 * ib_umem_odp_get() in a registration is the first one. True if it was made
 * for the MR being popped: the key counts the umem's DMA blocks at its own
 * page size, as ib_umem_find_best_pgsz() gives it for an ODP umem.
 */
static bool ats_wish_take_for_pop(struct ib_device *device, struct ib_mr *mr)
{
	struct ats_wish *w, *tmp;
	bool match = false;

	if (!atomic_read(&ats_nr_wishes))
		return false;
	spin_lock(&ats_lock);
	list_for_each_entry_safe(w, tmp, &ats_wishes, node) {
		if (w->task != current || w->device != device)
			continue;
		match = mr->frmr.key.num_dma_blocks ==
			ib_umem_num_dma_blocks(&w->odp->umem,
					       BIT(w->odp->page_shift));
		list_del(&w->node);
		atomic_dec(&ats_nr_wishes);
		kfree(w);
		break;
	}
	spin_unlock(&ats_lock);
	return match;
}

static int ats_frmr_pool_pop(struct ib_device *device, struct ib_mr *mr)
{
	int idx, ret;

	idx = srcu_read_lock(&ats_srcu);
	if (!ats_enter()) {
		ret = ib_frmr_pool_pop(device, mr);
		srcu_read_unlock(&ats_srcu, idx);
		return ret;
	}
	if (!ats_wish_take_for_pop(device, mr) || mr->frmr.key.ats) {
		ret = ib_frmr_pool_pop(device, mr);
		goto out;
	}
	mr->frmr.key.ats = 1;
	ret = ib_frmr_pool_pop(device, mr);
	if (ret == -EOPNOTSUPP) {
		/* mlx5 refuses ATS keys on a device without ATS. */
		mr->frmr.key.ats = 0;
		atomic_long_inc(&ats_refused);
		ret = ib_frmr_pool_pop(device, mr);
	} else if (!ret) {
		atomic_long_inc(&ats_mkeys);
	}
out:
	ats_leave();
	srcu_read_unlock(&ats_srcu, idx);
	return ret;
}

static void ats_umem_release(struct ib_umem *umem)
{
	int idx;

	idx = srcu_read_lock(&ats_srcu);
	if (!ats_enter()) {
		/* The exit frees every wish once the hooks are out. */
		ib_umem_release(umem);
		srcu_read_unlock(&ats_srcu, idx);
		return;
	}
	if (umem)
		ats_wish_drop(umem);
	ib_umem_release(umem);
	ats_leave();
	srcu_read_unlock(&ats_srcu, idx);
}

static struct hmm_p2p_hook get_hook =
	HMM_P2P_HOOK(ib_umem_odp_get, ats_umem_odp_get);
static struct hmm_p2p_hook pop_hook =
	HMM_P2P_HOOK(ib_frmr_pool_pop, ats_frmr_pool_pop);
static struct hmm_p2p_hook release_hook =
	HMM_P2P_HOOK(ib_umem_release, ats_umem_release);

/* Order matters: the hooks that consume wishes first, the producer last. */
static struct hmm_p2p_hook *const ats_hooks[] = {
	&release_hook, &pop_hook, &get_hook,
};

const char *odp_ats_unsupported_reason(void)
{
	return NULL;
}

void odp_ats_remove(void)
{
	hmm_p2p_hooks_remove(ats_hooks, ARRAY_SIZE(ats_hooks));
	hmm_p2p_hooks_quiesce(&ats_srcu);
	ats_wishes_free();
}

int odp_ats_install(void)
{
	int ret = hmm_p2p_hooks_install(ats_hooks, ARRAY_SIZE(ats_hooks));

	/* The hooks in before the one that failed may have redirected tasks. */
	if (ret) {
		hmm_p2p_hooks_quiesce(&ats_srcu);
		ats_wishes_free();
	}
	return ret;
}

#else

const char *odp_ats_unsupported_reason(void)
{
#if !ODP_P2P_SUPPORTED
	return "the ODP layout of this kernel is not served";
#else
	return "mlx5 keeps its mkey cache private here (probe have_ib_frmr_pool_ats)";
#endif
}

int odp_ats_install(void)
{
	return -EOPNOTSUPP;
}

void odp_ats_remove(void)
{
}
#endif
