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

MODULE_DESCRIPTION("hmm-p2p hook self-test: target");
MODULE_LICENSE("GPL");
