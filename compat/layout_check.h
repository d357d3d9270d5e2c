/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The checks of the layout verifiers (nouveau_p2p/layout/verify.c,
 * gpu_p2p/layout/verify*.c): build-time comparisons of the values a
 * provider hard-codes about another driver's private structures with what
 * that driver's own sources say. Never part of a module: the
 * check-*-layout scripts compile the verifiers to assembly only.
 *
 *   default                 static-assert every value and member type
 *   -DLAYOUT_CHECK_PRINT    no asserts; emit "-><tag> <name> <project>
 *                           <driver>" lines into the assembly instead, for
 *                           the per-value report
 *   -DLAYOUT_CHECK_SELFTEST LAYOUT_CHECK_SKEW makes the value a verifier
 *                           adds it to wrong on purpose (the check's
 *                           self-test: the build must then fail)
 */
#ifndef HMM_P2P_LAYOUT_CHECK_H
#define HMM_P2P_LAYOUT_CHECK_H

#include <linux/build_bug.h>
#include <linux/compiler.h>

#ifdef LAYOUT_CHECK_SELFTEST
#define LAYOUT_CHECK_SKEW 8
#else
#define LAYOUT_CHECK_SKEW 0
#endif

/*
 * The project's value @project of @prefix@name equals @driver. @tag names
 * the report lines, @what the driver in the error; each mode says all.
 */
#ifdef LAYOUT_CHECK_PRINT
#define LAYOUT_CHECK(tag, what, prefix, name, project, driver)           \
	({                                                               \
		asm volatile("\n.ascii \"->" tag " " #name " %0 %1\""    \
			     "\n# " what " " prefix #name                 \
			     : : "i"((long)(project)), "i"((long)(driver))); \
	})
#else
#define LAYOUT_CHECK(tag, what, prefix, name, project, driver)           \
	static_assert((project) == (driver),                             \
		      what " layout changed: " prefix #name " != " #driver \
		      " (report: ->" tag ")")
#endif

/* @member, which the provider reads, still has the type @mtype. */
#define LAYOUT_CHECK_TYPE(what, member, mtype)                           \
	static_assert(__same_type((member), mtype),                      \
		      what " layout changed: " #member " is not " #mtype)

#endif /* HMM_P2P_LAYOUT_CHECK_H */
