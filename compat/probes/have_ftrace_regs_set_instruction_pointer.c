// SPDX-License-Identifier: GPL-2.0-only
/*
 * ftrace_regs_set_instruction_pointer() replaces
 * ftrace_instruction_pointer_set() and struct ftrace_regs became opaque
 * ("ftrace: Make ftrace_regs abstract from direct use", Linux 6.13;
 * see docs/upstream-citations.md for the commit).
 */
#include <linux/ftrace.h>

static __maybe_unused void probe(struct ftrace_regs *fregs, unsigned long ip)
{
	ftrace_regs_set_instruction_pointer(fregs, ip);
}
