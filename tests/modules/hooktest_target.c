// SPDX-License-Identifier: GPL-2.0-only
/*
 * A harmless exported function for the hook-engine self-test, and a caller
 * of it that lives outside the module doing the hooking (calls from the
 * hooking module itself are deliberately never redirected).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "hooktest.h"

/* noinline + noclone: a real, ftrace-able call with the normal ABI. */
noinline __noclone int hmm_p2p_hooktest_target(int x)
{
	return x + 1;
}
EXPORT_SYMBOL_GPL(hmm_p2p_hooktest_target);

noinline int hmm_p2p_hooktest_call(int x)
{
	int ret = hmm_p2p_hooktest_target(x);

	barrier();	/* keep it a call, not a tail jump */
	return ret;
}
EXPORT_SYMBOL_GPL(hmm_p2p_hooktest_call);

/*
 * Writing N to the "call" parameter calls hmm_p2p_hooktest_call(N) from the
 * writing task (a call a hook redirects); "last_result" shows what it got.
 */
static int last_result;
module_param(last_result, int, 0444);
MODULE_PARM_DESC(last_result, "What the last write to call returned");

static int call_set(const char *val, const struct kernel_param *kp)
{
	int x, ret = kstrtoint(val, 0, &x);

	if (ret)
		return ret;
	WRITE_ONCE(last_result, hmm_p2p_hooktest_call(x));
	return 0;
}

static const struct kernel_param_ops call_ops = {
	.set = call_set,
};
module_param_cb(call, &call_ops, NULL, 0200);
MODULE_PARM_DESC(call, "Write N: call hmm_p2p_hooktest_call(N) from this task");

MODULE_DESCRIPTION("hmm-p2p hook self-test: target");
MODULE_LICENSE("GPL");
