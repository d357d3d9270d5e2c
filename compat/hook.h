/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hmm-p2p hook engine: redirect an exported, ftrace-able kernel function
 * to a replacement that may call the original.
 *
 * Mechanism: an ftrace_ops with FTRACE_OPS_FL_IPMODIFY on the function's
 * entry (the way livepatch does it) rewrites the return address of the
 * ftrace trampoline to the replacement. The replacement calls the original
 * by its symbol name, a direct call: calls coming from the module that owns
 * the hook (or from hmm_p2p.ko itself) are not redirected. No code bytes are
 * patched, no address is looked up, nothing unexported is called through a
 * pointer, so it is safe under CET-IBT (the replacement is address-taken and
 * carries ENDBR).
 */
#ifndef HMM_P2P_HOOK_H
#define HMM_P2P_HOOK_H

#include <linux/ftrace.h>
#include <linux/module.h>

struct hmm_p2p_hook {
	const char *name;	/* the target's symbol name, for logs */
	void *target;		/* the exported function (&func) */
	void *replacement;	/* same prototype as target */
	struct module *owner;	/* THIS_MODULE of the hook's user */
	/* private to the engine */
	struct ftrace_ops ops;
	bool installed;
};

#define HMM_P2P_HOOK(_func, _replacement)                 \
	{                                                 \
		.name = #_func, .target = (void *)(_func), \
		.replacement = (void *)(_replacement),     \
		.owner = THIS_MODULE,                      \
	}

/* 0 on success; -EOPNOTSUPP, -EBUSY (another IPMODIFY owner) or -errno. */
int hmm_p2p_hook_install(struct hmm_p2p_hook *hook);
void hmm_p2p_hook_remove(struct hmm_p2p_hook *hook);
/* A set of hooks: installed in order (all or none), removed last first. */
int hmm_p2p_hooks_install(struct hmm_p2p_hook *const *hooks, unsigned int n);
void hmm_p2p_hooks_remove(struct hmm_p2p_hook *const *hooks, unsigned int n);
/*
 * After removing hooks whose replacements bracket their bodies with a read
 * section of @srcu: wait until no task runs a replacement any more, so the
 * owner may unload. Nothing in a replacement may block outside the read
 * section (not even a call to the original that returns into it): RCU
 * Tasks counts a sleeping task as quiescent whatever its stack holds.
 */
struct srcu_struct;
void hmm_p2p_hooks_quiesce(struct srcu_struct *srcu);
/* Why hooks cannot work on this kernel, or NULL if they can. */
const char *hmm_p2p_hook_unsupported_reason(void);

#endif /* HMM_P2P_HOOK_H */
