// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5_odp_p2p: makes the stock RDMA ODP path ask hmm-p2p for P2P aliases,
 * for selected ib devices (mlx5 by default, rdma_rxe for tests).
 *
 * This version validates its configuration, recognises the kernel's ODP
 * path through the compat probes and reports what it found; the hooks that
 * route ODP faults through hmm_p2p_range_fault() arrive with issue 4.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"
#include "hook.h"

/* ib driver names (ib_device_ops.driver_id names) the consumer may serve. */
static const char *const known_drivers[] = { "mlx5", "rxe" };

static char devices[64] = "mlx5";

static bool devices_valid(const char *val)
{
	char buf[sizeof(devices)], *cur = buf, *tok;
	unsigned int i;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		return false;
	strim(buf);
	if (!strcmp(buf, "none"))
		return true;
	while ((tok = strsep(&cur, ","))) {
		for (i = 0; i < ARRAY_SIZE(known_drivers); i++)
			if (!strcmp(strim(tok), known_drivers[i]))
				break;
		if (i == ARRAY_SIZE(known_drivers))
			return false;
	}
	return true;
}

/* On -EINVAL the kernel logs the one line: "`val' invalid for parameter". */
static int devices_set(const char *val, const struct kernel_param *kp)
{
	if (!devices_valid(val))
		return -EINVAL;
	return param_set_copystring(val, kp);
}

static const struct kernel_param_ops devices_ops = {
	.set = devices_set,
	.get = param_get_string,
};

static struct kparam_string devices_param = {
	.maxlen = sizeof(devices),
	.string = devices,
};
module_param_cb(devices, &devices_ops, &devices_param, 0444);
MODULE_PARM_DESC(devices,
		 "ib drivers whose ODP memory regions go peer-to-peer: comma-separated list of mlx5, rxe, or none (default mlx5)");

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

static int __init mlx5_odp_p2p_init(void)
{
	const char *layout = odp_layout();
	const char *hooks = hmm_p2p_hook_unsupported_reason();

	if (!layout) {
		pr_err("version %s cannot run on %s: the ib_umem_odp layout is not recognised (probes have_ib_umem_odp_map and have_ib_umem_odp_dma_list both failed)\n",
		       HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE);
		return -EOPNOTSUPP;
	}
	if (hooks) {
		pr_err("version %s cannot run on %s: %s\n", HMM_P2P_VERSION,
		       HMM_P2P_KERNELRELEASE, hooks);
		return -EOPNOTSUPP;
	}
	pr_info("version %s idle on %s: ODP layout %s; devices=%s; the ODP hooks are not implemented in this version\n",
		HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE, layout, devices);
	return 0;
}

static void __exit mlx5_odp_p2p_exit(void)
{
}

module_init(mlx5_odp_p2p_init);
module_exit(mlx5_odp_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p consumer: peer-to-peer RDMA ODP for device-private memory");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
