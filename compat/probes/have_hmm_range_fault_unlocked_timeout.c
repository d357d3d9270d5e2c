// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_range_fault_unlocked_timeout() exists; ib_umem_odp calls it instead of
 * hmm_range_fault() since Linux 7.0/7.1 (see docs/upstream-citations.md),
 * so the ODP consumer must hook it.
 */
#include <linux/hmm.h>

static __maybe_unused int probe(struct hmm_range *range)
{
	return hmm_range_fault_unlocked_timeout(range, 0);
}
