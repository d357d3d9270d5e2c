// SPDX-License-Identifier: GPL-2.0-only
/*
 * ftrace_regs_set_instruction_pointer() replaces ftrace_instruction_pointer_set().
 * Upstream: commit 0ef86097f127 ("ftrace: rename ftrace_instruction_pointer_set() ->
 * ftrace_regs_set_instruction_pointer()") in v6.2; struct ftrace_regs became
 * opaque with commit 7888af4166d4 ("ftrace: Make ftrace_regs abstract from
 * direct use") in v6.13.
 */
#include <linux/ftrace.h>

static __maybe_unused void probe(struct ftrace_regs *fregs, unsigned long ip)
{
	ftrace_regs_set_instruction_pointer(fregs, ip);
}
