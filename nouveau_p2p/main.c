// SPDX-License-Identifier: GPL-2.0-only
/*
 * nouveau_p2p: the hmm-p2p provider for nouveau's device memory.
 *
 * nouveau only has device-private memory when it is built with
 * CONFIG_DRM_NOUVEAU_SVM (off in every Debian kernel) and drives a Pascal
 * GPU. Until the provider proper lands (issue 5), this module reports what
 * the kernel allows and stays idle.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "hmm_p2p.h"
#include "hmm_p2p_compat.h"

static int __init nouveau_p2p_init(void)
{
	if (!IS_ENABLED(CONFIG_DRM_NOUVEAU_SVM)) {
		pr_info("version %s idle on %s: nouveau has no device memory in this kernel (CONFIG_DRM_NOUVEAU_SVM is not set)\n",
			HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE);
		return 0;
	}
	pr_info("version %s idle on %s: the nouveau provider is not implemented in this version\n",
		HMM_P2P_VERSION, HMM_P2P_KERNELRELEASE);
	return 0;
}

static void __exit nouveau_p2p_exit(void)
{
}

module_init(nouveau_p2p_init);
module_exit(nouveau_p2p_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p provider for nouveau device memory");
MODULE_LICENSE("GPL");
MODULE_VERSION(HMM_P2P_VERSION);
