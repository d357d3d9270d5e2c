// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hook engine: unloading a hooking module waits for every task still in one
 * of its replacements, including one that left the replacement's read
 * section but not yet its text (preempted between srcu_read_unlock() and
 * return). The replacement here lingers linger_ms on the CPU after its read
 * section, as such a task would; the suite unloads this module meanwhile
 * (tests/vm/run-suite, t_hook_unload_waits). Without the wait, the task
 * returns into freed module text.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/srcu.h>

#include "hook.h"
#include "hooktest.h"

static unsigned int linger_ms = 1000;
module_param(linger_ms, uint, 0644);
MODULE_PARM_DESC(linger_ms,
		 "How long a redirected call stays in the replacement after its read section, in ms (default 1000)");

DEFINE_STATIC_SRCU(drain_srcu);
static atomic_t calls = ATOMIC_INIT(0);

static int replacement(int x)
{
	int idx, ret;

	idx = srcu_read_lock(&drain_srcu);
	ret = hmm_p2p_hooktest_target(x) + 100;
	atomic_inc(&calls);
	srcu_read_unlock(&drain_srcu, idx);
	/* On the CPU, not asleep: no voluntary context switch here. */
	mdelay(READ_ONCE(linger_ms));
	return ret;
}

static struct hmm_p2p_hook hook =
	HMM_P2P_HOOK(hmm_p2p_hooktest_target, replacement);
static struct hmm_p2p_hook *const hooks[] = { &hook };

static int __init hookdrain_init(void)
{
	return hmm_p2p_hooks_install(hooks, ARRAY_SIZE(hooks));
}

static void __exit hookdrain_exit(void)
{
	hmm_p2p_hooks_remove(hooks, ARRAY_SIZE(hooks));
	hmm_p2p_hooks_quiesce(&drain_srcu);
	pr_info("unloaded after %d redirected calls, none still running\n",
		atomic_read(&calls));
}

module_init(hookdrain_init);
module_exit(hookdrain_exit);

MODULE_DESCRIPTION("hmm-p2p hook engine test: unloading waits for lingering replacements");
MODULE_LICENSE("GPL");
