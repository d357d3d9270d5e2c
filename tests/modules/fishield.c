// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault-injection shield for the loading test (tests/vm/run-suite,
 * egpu_faultinj): while one of the exported kernel functions below runs,
 * the calling task's /proc/<pid>/fail-nth countdown is held at zero, so no
 * allocation made inside it is counted or failed. Their failure handling is
 * the kernel's and has bugs of its own; what the loading test exercises is
 * ours: that every error a kernel API returns unwinds cleanly.
 *
 * The kernel's stacktrace filter keeps one address range out of injection
 * (the suite uses it for x86's add_pages()..arch_add_memory(), which are not
 * exported); this covers the rest. It is a kretprobe: the kernel's own
 * mechanism, no code is patched. Test only, never installed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "hmm_p2p.h"

/*
 * gen_pool_add_owner(), from pci_p2pdma_add_resource(): when it fails, the
 * latter frees its pagemap but leaves the devres action that
 * sysfs_remove_file_from_group()s through it registered, and the PCI
 * device's devres release then reads freed memory (a KASAN report in
 * pci_p2pdma_unmap_mappings()). In 6.12 the action's argument is the
 * pci_dev, which outlives it; in 7.3 it is the pagemap (most likely since
 * "PCI/P2PDMA: Separate the mmap() support from the core logic", of the
 * P2PDMA provider rework for vfio's dma-buf export, v6.19).
 */
static const char *const shielded_functions[] = {
	"gen_pool_add_owner",
};

#define NR_SHIELDED ARRAY_SIZE(shielded_functions)

/* Calls that ran with a countdown held: "was the shield in the way?" */
static atomic_t shielded_calls = ATOMIC_INIT(0);

static int shielded_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&shielded_calls));
}

static const struct kernel_param_ops shielded_ops = {
	.set = hmm_p2p_param_set_readonly,	/* no NULL .set at insmod */
	.get = shielded_get,
};

module_param_cb(shielded_calls, &shielded_ops, NULL, 0444);
MODULE_PARM_DESC(shielded_calls,
		 "calls of a shielded function made with a fail-nth countdown");

struct shield_frame {
	unsigned int saved_fail_nth;
};

static int shield_enter(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shield_frame *frame = (struct shield_frame *)ri->data;

	frame->saved_fail_nth = READ_ONCE(current->fail_nth);
	if (frame->saved_fail_nth) {
		WRITE_ONCE(current->fail_nth, 0);
		atomic_inc(&shielded_calls);
	}
	return 0;
}

static int shield_leave(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct shield_frame *frame = (struct shield_frame *)ri->data;

	if (frame->saved_fail_nth)
		WRITE_ONCE(current->fail_nth, frame->saved_fail_nth);
	return 0;
}

static struct kretprobe shields[NR_SHIELDED];

static void shields_unregister(unsigned int n)
{
	while (n--)
		unregister_kretprobe(&shields[n]);
}

static int __init fishield_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR_SHIELDED; i++) {
		shields[i] = (struct kretprobe){
			.kp.symbol_name = shielded_functions[i],
			.entry_handler = shield_enter,
			.handler = shield_leave,
			.data_size = sizeof(struct shield_frame),
			/* Nested and concurrent calls each need one. */
			.maxactive = 64,
		};
		ret = register_kretprobe(&shields[i]);
		if (ret) {
			pr_err("cannot probe %s: %d\n", shielded_functions[i],
			       ret);
			shields_unregister(i);
			return ret;
		}
	}
	pr_info("fail-nth held at 0 inside %zu kernel function(s)\n",
		NR_SHIELDED);
	return 0;
}

static void __exit fishield_exit(void)
{
	unsigned int i;

	shields_unregister(NR_SHIELDED);
	for (i = 0; i < NR_SHIELDED; i++)
		if (shields[i].nmissed)
			pr_warn("%s: %d calls missed the shield\n",
				shielded_functions[i], shields[i].nmissed);
	pr_info("%d shielded call(s)\n", atomic_read(&shielded_calls));
}

module_init(fishield_init);
module_exit(fishield_exit);
MODULE_DESCRIPTION("hmm-p2p test: keeps kernel functions out of fail-nth");
MODULE_LICENSE("GPL");
