// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: module parameters and driver registration.
 *
 * Two PCI drivers live in this module: "hmm_p2p_egpu" binds ivshmem-plain
 * devices (the GPUs) and "hmm_p2p_egpu_edu" binds qemu edu devices (the DMA
 * clients). Either may be unbound and rebound through sysfs at any time.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>

#include "egpu.h"

unsigned int egpu_vram_mb;
unsigned int egpu_dma_timeout_ms = 5000;
unsigned int egpu_retry_timeout_ms = 30000;

/* A uint parameter with an inclusive range; out of range is refused. */
struct egpu_uint_range {
	unsigned int min, max;
};

static int egpu_param_set_range(const char *val, const struct kernel_param *kp,
				const struct egpu_uint_range *r)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret || v < r->min || v > r->max) {
		pr_err("%s: '%s' is not in [%u, %u]\n", kp->name, val, r->min,
		       r->max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

/* 0 means the whole BAR; the upper bound is checked against BAR2 at probe. */
static const struct egpu_uint_range vram_mb_range = { 0, 1U << 16 };
static const struct egpu_uint_range dma_timeout_range = { 10, 600000 };
static const struct egpu_uint_range retry_timeout_range = { 100, 600000 };

static int vram_mb_set(const char *val, const struct kernel_param *kp)
{
	return egpu_param_set_range(val, kp, &vram_mb_range);
}

static int dma_timeout_set(const char *val, const struct kernel_param *kp)
{
	return egpu_param_set_range(val, kp, &dma_timeout_range);
}

static int retry_timeout_set(const char *val, const struct kernel_param *kp)
{
	return egpu_param_set_range(val, kp, &retry_timeout_range);
}

static const struct kernel_param_ops vram_mb_ops = {
	.set = vram_mb_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops dma_timeout_ops = {
	.set = dma_timeout_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops retry_timeout_ops = {
	.set = retry_timeout_set,
	.get = param_get_uint,
};

/* Read at probe time: 0444 so a change cannot race with a probe. */
module_param_cb(vram_mb, &vram_mb_ops, &egpu_vram_mb, 0444);
MODULE_PARM_DESC(vram_mb,
		 "VRAM per GPU in MiB, a window at the start of BAR2 (0 = the whole BAR, default; an even number, at most 65536)");
module_param_cb(dma_timeout_ms, &dma_timeout_ops, &egpu_dma_timeout_ms, 0644);
MODULE_PARM_DESC(dma_timeout_ms,
		 "How long one edu DMA command may take before -ETIMEDOUT, in ms (10-600000, default 5000)");
module_param_cb(retry_timeout_ms, &retry_timeout_ops, &egpu_retry_timeout_ms,
		0644);
MODULE_PARM_DESC(retry_timeout_ms,
		 "How long an ioctl retries a range fault invalidated under it before -EBUSY, in ms (100-600000, default 30000)");

/*
 * amdgpu_like: no provider of its own. VRAM is a device-private region
 * named after the PCI device, and the PCI drvdata sits where amdgpu's does
 * relative to the pagemap (gpu_p2p/gpu_layout.h), so that gpu_p2p's amdgpu
 * rule finds it (with driver_rules=hmm_p2p_egpu=amdgpu).
 */
bool egpu_amdgpu_like;
module_param_named(amdgpu_like, egpu_amdgpu_like, bool, 0444);
MODULE_PARM_DESC(amdgpu_like,
		 "No provider of its own: device memory laid out as amdgpu's, for gpu_p2p (default N)");

/*
 * xe_like: no provider of its own. VRAM is a device-private region named
 * after the PCI device, and the pagemap is followed, where xe's struct
 * xe_pagemap has them (gpu_p2p/gpu_layout.h), by a struct drm_pagemap that
 * points back at it and names a drm_device of the PCI device, and by a
 * VRAM region whose io_start and io_size say where BAR 2 shows the pagemap
 * (xe_io_mb: less than all of it, as a small BAR), so that gpu_p2p's xe
 * rule finds it (with driver_rules=hmm_p2p_egpu=xe).
 */
bool egpu_xe_like;
module_param_named(xe_like, egpu_xe_like, bool, 0444);
MODULE_PARM_DESC(xe_like,
		 "No provider of its own: device memory laid out as xe's, for gpu_p2p (default N)");

unsigned int egpu_xe_io_mb;
module_param_named(xe_io_mb, egpu_xe_io_mb, uint, 0444);
MODULE_PARM_DESC(xe_io_mb,
		 "xe_like: MiB of VRAM the BAR shows (a small BAR; default 0: all of it)");

/*
 * own_p2pdma (amdgpu_like, xe_like): the driver registers all of BAR 2 as
 * P2PDMA memory itself, as NVIDIA's driver does with a static BAR1, so
 * that gpu_p2p's window lies inside P2PDMA pages the driver registered.
 */
bool egpu_own_p2pdma;
module_param_named(own_p2pdma, egpu_own_p2pdma, bool, 0444);
MODULE_PARM_DESC(own_p2pdma,
		 "amdgpu_like, xe_like: register all of BAR 2 as P2PDMA memory in probe (default N)");

/*
 * shared_owner: both GPUs under one dev_pagemap owner, as the GPUs of an
 * XGMI hive or xe peers share one; each still registers its own provider.
 * Each GPU then sees the other's pages as its own and leaves them where
 * they are (it cannot move a page between GPUs): only what never needs
 * that is tested in this mode (a NIC reading and writing both GPUs).
 */
static int egpu_hive;
bool egpu_shared_owner;
module_param_named(shared_owner, egpu_shared_owner, bool, 0444);
MODULE_PARM_DESC(shared_owner,
		 "Both GPUs under one dev_pagemap owner, each with its own provider, as an XGMI hive (default N)");

void *egpu_owner(struct egpu *gpu)
{
	return egpu_shared_owner ? (void *)&egpu_hive : gpu;
}

static int __init egpu_init(void)
{
	int ret;

	if (egpu_amdgpu_like && egpu_xe_like) {
		pr_err("amdgpu_like and xe_like: one layout at a time\n");
		return -EINVAL;
	}
	if (egpu_own_p2pdma && !egpu_unaware()) {
		pr_err("own_p2pdma: only with amdgpu_like or xe_like\n");
		return -EINVAL;
	}
	/* Clients first: a GPU's CLIENTS ioctl lists whatever is bound. */
	ret = pci_register_driver(&egpu_edu_driver);
	if (ret)
		return ret;
	ret = pci_register_driver(&egpu_gpu_driver);
	if (ret)
		pci_unregister_driver(&egpu_edu_driver);
	return ret;
}

static void __exit egpu_exit(void)
{
	pci_unregister_driver(&egpu_gpu_driver);
	pci_unregister_driver(&egpu_edu_driver);
}

module_init(egpu_init);
module_exit(egpu_exit);

MODULE_AUTHOR("hmm-p2p developers");
MODULE_DESCRIPTION("hmm-p2p test: emulated GPU (ivshmem VRAM) and edu DMA clients");
MODULE_LICENSE("GPL");
