/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The check macros of verify.c and verify_xe.c (build-time verification of
 * gpu_p2p/gpu_layout.h; never part of a module), on compat/layout_check.h.
 */
#ifndef GPUP2P_LAYOUT_VERIFY_H
#define GPUP2P_LAYOUT_VERIFY_H

#include "layout_check.h"

#define GPUP2P_SKEW LAYOUT_CHECK_SKEW
#define GPUP2P_CHECK(name, project, driver) \
	LAYOUT_CHECK("gpup2p", "gpu", "GPUP2P_", name, project, driver)
#define GPUP2P_CHECK_TYPE(member, mtype) \
	LAYOUT_CHECK_TYPE("gpu", member, mtype)

#endif /* GPUP2P_LAYOUT_VERIFY_H */
