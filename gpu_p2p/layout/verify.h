/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The check macros of verify.c and verify_xe.c (build-time verification of
 * gpu_p2p/gpu_layout.h; never part of a module).
 */
#ifndef GPUP2P_LAYOUT_VERIFY_H
#define GPUP2P_LAYOUT_VERIFY_H

#ifdef GPUP2P_LAYOUT_SELFTEST
#define GPUP2P_SKEW 8
#else
#define GPUP2P_SKEW 0
#endif

#ifdef GPUP2P_LAYOUT_PRINT
#define GPUP2P_CHECK(name, project, driver)                         \
	({                                                          \
		asm volatile("\n.ascii \"->gpup2p " #name " %0 %1\"" \
			     : : "i"((long)(project)),              \
			       "i"((long)(driver)));                \
	})
#else
#define GPUP2P_CHECK(name, project, driver)                         \
	static_assert((project) == (driver),                        \
		      "gpu layout changed: GPUP2P_" #name " != " #driver)
#endif

#define GPUP2P_CHECK_TYPE(member, mtype)                            \
	static_assert(__same_type((member), mtype),                 \
		      "gpu layout changed: " #member " is not " #mtype)

#endif /* GPUP2P_LAYOUT_VERIFY_H */
