// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_range_fault_unlocked_timeout() exists, and ib_umem_odp calls it instead
 * of hmm_range_fault(), so the ODP consumer must hook it.
 * Upstream: "mm/hmm: add hmm_range_fault_unlocked_timeout() for mmap lock-drop support"
 * (Stanislav Kinsburskii, 2026), present in Debian 7.2/7.3; no mainline hash
 * was found (see docs/upstream-citations.md).
 */
#include <linux/hmm.h>

static __maybe_unused int probe(struct hmm_range *range)
{
	return hmm_range_fault_unlocked_timeout(range, 0);
}
