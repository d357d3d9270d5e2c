// SPDX-License-Identifier: GPL-2.0-only
/*
 * ib_core keeps mkeys in FRMR pools keyed by struct ib_frmr_key, whose ats
 * bit makes mlx5 create the mkey with ATS translation; mlx5 takes the mkey
 * of every ODP memory region from a pool with ib_frmr_pool_pop().
 * Upstream: the FRMR pools series (Michael Guralnik, "RDMA/core: Add
 * Fast Memory Registration pools", 2025-2026; include/rdma/frmr_pools.h),
 * present in Debian's 7.2 and 7.3; mainline hash not verified here (see
 * docs/upstream-citations.md). Before it, mlx5 kept its own mkey cache,
 * whose key is private to mlx5_ib.
 */
#include <rdma/frmr_pools.h>
#include <rdma/ib_verbs.h>

static __maybe_unused int probe(struct ib_device *device, struct ib_mr *mr)
{
	mr->frmr.key.ats = 1;
	return ib_frmr_pool_pop(device, mr);
}
