// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hook-engine self-test (kselftest-module style: loading it is the test; a
 * failure makes modprobe fail with -EINVAL and names the failed check).
 *
 * It hooks hmm_p2p_hooktest_target() and proves that
 *  - a call from another module is redirected to the replacement,
 *  - the replacement reaches the original (a call from the hooking module
 *    is not redirected),
 *  - a second IPMODIFY owner of the same function is refused with -EBUSY,
 *  - bad hook descriptions are refused with -EINVAL, double install -EEXIST,
 *  - after removal the function is original again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "hook.h"
#include "hooktest.h"

static atomic_t replacement_calls = ATOMIC_INIT(0);

static int replacement(int x)
{
	int ret = hmm_p2p_hooktest_target(x) * 1000;

	atomic_inc(&replacement_calls);
	return ret;
}

static int other_replacement(int x)
{
	return -1;
}

static struct hmm_p2p_hook hook =
	HMM_P2P_HOOK(hmm_p2p_hooktest_target, replacement);
static struct hmm_p2p_hook rival =
	HMM_P2P_HOOK(hmm_p2p_hooktest_target, other_replacement);

/* Log a failed check; the caller counts the failures. */
static bool check(bool ok, const char *what, int line)
{
	if (!ok)
		pr_err("self-test FAILED: %s (line %d)\n", what, line);
	return ok;
}

#define CHECK(cond) (failed += !check((cond), #cond, __LINE__))

static int __init hooktest_init(void)
{
	struct hmm_p2p_hook bad = { .name = "bad" };
	int failed = 0;

	CHECK(hmm_p2p_hooktest_call(41) == 42);
	CHECK(hmm_p2p_hook_install(&bad) == -EINVAL);

	CHECK(hmm_p2p_hook_install(&hook) == 0);
	CHECK(hmm_p2p_hook_install(&hook) == -EEXIST);
	CHECK(hmm_p2p_hook_install(&rival) == -EBUSY);
	CHECK(hmm_p2p_hooktest_call(41) == 42000);
	CHECK(atomic_read(&replacement_calls) == 1);
	/* From the hooking module itself: the original. */
	CHECK(hmm_p2p_hooktest_target(41) == 42);

	hmm_p2p_hook_remove(&hook);
	CHECK(hmm_p2p_hooktest_call(41) == 42);
	CHECK(atomic_read(&replacement_calls) == 1);

	if (failed) {
		/* No-ops unless a failed check left them installed. */
		hmm_p2p_hook_remove(&rival);
		hmm_p2p_hook_remove(&hook);
		return -EINVAL;
	}
	pr_info("self-test passed: redirection, call-through, IPMODIFY exclusivity and removal\n");
	return 0;
}

static void __exit hooktest_exit(void)
{
}

module_init(hooktest_init);
module_exit(hooktest_exit);

MODULE_DESCRIPTION("hmm-p2p hook engine self-test");
MODULE_LICENSE("GPL");
