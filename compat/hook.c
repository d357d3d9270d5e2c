// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hook engine: see hook.h for the contract and why it is IBT-safe.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/srcu.h>

#include "hmm_p2p_compat.h"
#include "hook.h"

#if defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) || \
	defined(CONFIG_DYNAMIC_FTRACE_WITH_REGS)
#define HMM_P2P_HOOKS_SUPPORTED 1
#else
#define HMM_P2P_HOOKS_SUPPORTED 0
#endif

#if HMM_P2P_HOOKS_SUPPORTED
/*
 * Probe have_ftrace_regs_set_instruction_pointer: 0ef86097f127 (v6.2)
 * renamed the setter; 7888af4166d4 (v6.13) made struct ftrace_regs opaque.
 */
static __always_inline void hook_set_ip(struct ftrace_regs *fregs,
					unsigned long ip)
{
#ifdef HMM_P2P_HAVE_FTRACE_REGS_SET_INSTRUCTION_POINTER
	ftrace_regs_set_instruction_pointer(fregs, ip);
#else
	ftrace_instruction_pointer_set(fregs, ip);
#endif
}

static void notrace hook_thunk(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct hmm_p2p_hook *hook = container_of(op, struct hmm_p2p_hook, ops);

	/*
	 * The replacement (or the core it calls) reaching the original; or
	 * an owner on its way out, whose exit waits for the calls already
	 * redirected: new ones run the original.
	 */
	if (within_module(parent_ip, hook->owner) ||
	    within_module(parent_ip, THIS_MODULE) ||
	    !module_is_live(hook->owner))
		return;
	hook_set_ip(fregs, (unsigned long)hook->replacement);
}

/*
 * IPMODIFY: we change the IP, and only one such ops may own a function.
 * PERMANENT: the hook cannot be silently switched off by
 * "sysctl kernel.ftrace_enabled=0" on 6.x (registration fails instead).
 * Without DYNAMIC_FTRACE_WITH_ARGS the registers must be saved to be set.
 */
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_ARGS
#define HOOK_OPS_FLAGS (FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT)
#else
#define HOOK_OPS_FLAGS (FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT | \
			FTRACE_OPS_FL_SAVE_REGS)
#endif
#endif /* HMM_P2P_HOOKS_SUPPORTED */

const char *hmm_p2p_hook_unsupported_reason(void)
{
	if (!HMM_P2P_HOOKS_SUPPORTED)
		return "neither CONFIG_DYNAMIC_FTRACE_WITH_ARGS nor _WITH_REGS is set";
	return NULL;
}
EXPORT_SYMBOL_GPL(hmm_p2p_hook_unsupported_reason);

int hmm_p2p_hook_install(struct hmm_p2p_hook *hook)
{
#if HMM_P2P_HOOKS_SUPPORTED
	int ret;

	if (!hook || !hook->target || !hook->replacement || !hook->name)
		return -EINVAL;
	if (hook->installed)
		return -EEXIST;

	memset(&hook->ops, 0, sizeof(hook->ops));
	hook->ops.func = hook_thunk;
	hook->ops.flags = HOOK_OPS_FLAGS;

	ret = ftrace_set_filter_ip(&hook->ops, (unsigned long)hook->target,
				   0, 0);
	if (ret) {
		pr_err("cannot hook %s: not traceable (ftrace_set_filter_ip: %d)\n",
		       hook->name, ret);
		return ret;
	}
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		pr_err("cannot hook %s: %s (%d)\n", hook->name,
		       ret == -EBUSY ? "another livepatch or hook owns it, or ftrace is disabled" :
				       "register_ftrace_function failed",
		       ret);
		ftrace_set_filter_ip(&hook->ops, (unsigned long)hook->target,
				     1, 0);
		return ret;
	}
	hook->installed = true;
	return 0;
#else
	pr_err("cannot hook %s: %s\n", hook ? hook->name : "?",
	       hmm_p2p_hook_unsupported_reason());
	return -EOPNOTSUPP;
#endif
}
EXPORT_SYMBOL_GPL(hmm_p2p_hook_install);

void hmm_p2p_hook_remove(struct hmm_p2p_hook *hook)
{
#if HMM_P2P_HOOKS_SUPPORTED
	if (!hook || !hook->installed)
		return;
	/*
	 * unregister_ftrace_function() waits until no CPU is inside the
	 * trampoline; callers already redirected may still be running the
	 * replacement, which is why the owner must not free what the
	 * replacement uses before its own in-flight calls have drained.
	 */
	unregister_ftrace_function(&hook->ops);
	ftrace_set_filter_ip(&hook->ops, (unsigned long)hook->target, 1, 0);
	hook->installed = false;
#endif
}
EXPORT_SYMBOL_GPL(hmm_p2p_hook_remove);

/*
 * Install @n hooks in order; on failure remove those installed, last
 * first. Order matters to callers: the hook that triggers the others'
 * work goes last.
 */
int hmm_p2p_hooks_install(struct hmm_p2p_hook *const *hooks, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = hmm_p2p_hook_install(hooks[i]);
		if (ret) {
			hmm_p2p_hooks_remove(hooks, i);
			return ret;
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(hmm_p2p_hooks_install);

/* Remove @n hooks, last first. */
void hmm_p2p_hooks_remove(struct hmm_p2p_hook *const *hooks, unsigned int n)
{
	while (n--)
		hmm_p2p_hook_remove(hooks[n]);
}
EXPORT_SYMBOL_GPL(hmm_p2p_hooks_remove);

/*
 * A redirected task may be anywhere in a replacement: before its
 * srcu_read_lock(), inside (possibly asleep in the original), or after its
 * srcu_read_unlock() but before it returned (preempted there). An RCU Tasks
 * grace period (what ftrace waits for before freeing a trampoline) ends only
 * once every task has switched voluntarily, been in user mode or idle: a
 * replacement does that only inside its read section. So: the first one
 * moves every task that entered into its read section or out, the SRCU
 * grace period waits for the read sections, the second one for the tails.
 */
void hmm_p2p_hooks_quiesce(struct srcu_struct *srcu)
{
	synchronize_rcu_tasks();
	synchronize_srcu(srcu);
	synchronize_rcu_tasks();
}
EXPORT_SYMBOL_GPL(hmm_p2p_hooks_quiesce);
