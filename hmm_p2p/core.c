// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p: the module. The registry of providers is in registry.c, the
 * P2P-aware fault in fault.c, the BAR-window helper in bar_window.c, the
 * counters' sysfs files in sysfs.c and the hook engine in compat/hook.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "hmm_p2p_compat.h"
#include "hook.h"
#include "internal.h"

/* ---- module ------------------------------------------------------------ */

/* NULL if this kernel can host hmm-p2p, else the one reason it cannot. */
static const char *kernel_unsupported_reason(void)
{
	if (!IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		return "CONFIG_DEVICE_PRIVATE is not set";
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return "CONFIG_PCI_P2PDMA is not set";
#ifndef HMM_P2P_EXPORTED_HMM_RANGE_FAULT
	return "hmm_range_fault is not exported (probe export-hmm_range_fault)";
#endif
#ifndef HMM_P2P_EXPORTED_PCI_P2PDMA_ADD_RESOURCE
	return "pci_p2pdma_add_resource is not exported (probe export-pci_p2pdma_add_resource)";
#endif
	return NULL;
}

/*
 * What the module offers, as its load line says it and the state parameter
 * repeats it: one text, so that the two never disagree.
 */
static void describe_state(char *buf, size_t size)
{
	const char *hooks = hmm_p2p_hook_unsupported_reason();

	snprintf(buf, size,
		 "device-private P2P aliases %s, hook engine %s%s",
		 hmm_p2p_enabled() ? "enabled" : "disabled (enable=N)",
		 hooks ? "unavailable: " : "available", hooks ? hooks : "");
}

/* The module is loaded only when ready: "ready: <what the load line says>". */
static int state_get(char *buf, const struct kernel_param *kp)
{
	char state[160];

	describe_state(state, sizeof(state));
	return sysfs_emit(buf, "ready: %s\n", state);
}

static const struct kernel_param_ops state_ops = {
	.set = hmm_p2p_param_set_readonly,
	.get = state_get,
};

module_param_cb(state, &state_ops, NULL, 0444);
MODULE_PARM_DESC(state,
		 "Read-only: \"ready: \" and what is enabled, as the load line says it");

static int __init hmm_p2p_init(void)
{
	const char *why = kernel_unsupported_reason();
	char state[160];
	int ret;

	if (why) {
		pr_err("version %s cannot run on %s: %s\n", HMM_P2P_VERSION,
		       HMM_P2P_KERNELRELEASE, why);
		return -EOPNOTSUPP;
	}
	ret = hmm_p2p_walk_pool_init();
	if (ret)
		return ret;
	ret = hmm_p2p_sysfs_init();
	if (ret) {
		hmm_p2p_walk_pool_exit();
		return ret;
	}
	describe_state(state, sizeof(state));
	pr_info("version %s ready on %s: %s\n", HMM_P2P_VERSION,
		HMM_P2P_KERNELRELEASE, state);
	return 0;
}

static void __exit hmm_p2p_exit(void)
{
	hmm_p2p_sysfs_exit();
	hmm_p2p_registry_exit();
	hmm_p2p_walk_pool_exit();
}

module_init(hmm_p2p_init);
module_exit(hmm_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("Peer-to-peer DMA for HMM device-private pages");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
