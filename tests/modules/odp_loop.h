/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The canonical ODP mirror loop, shared by the test modules (the emulated
 * GPU's DMA client and the benchmark engine):
 *
 *   again:
 *	seq = mmu_interval_read_begin()
 *	walk (hmm_p2p_range_fault() or hmm_range_fault() under the mmap lock)
 *	-EBUSY: again
 *	lock (the mirror's invalidate callback takes it too)
 *	mmu_interval_read_retry(seq): unlock, again
 *
 * Returns 0 with @lock held and the pfns valid until it is dropped, or
 * -EINTR, -EBUSY (after @timeout jiffies) or the walk's error.
 */
#ifndef HMM_P2P_TEST_ODP_LOOP_H
#define HMM_P2P_TEST_ODP_LOOP_H

#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>

static inline int test_odp_fault_and_lock(struct hmm_range *range,
					  struct mutex *lock,
					  unsigned long timeout,
					  int (*walk)(struct hmm_range *range,
						      void *arg),
					  void *arg, u64 *retries)
{
	unsigned long deadline = jiffies + timeout;
	int ret;

	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline))
			return -EBUSY;
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		ret = walk(range, arg);
		if (ret == -EBUSY) {
			(*retries)++;
			continue;
		}
		if (ret)
			return ret;
		mutex_lock(lock);
		if (!mmu_interval_read_retry(range->notifier,
					     range->notifier_seq))
			return 0;
		mutex_unlock(lock);
		(*retries)++;
	}
}

#endif /* HMM_P2P_TEST_ODP_LOOP_H */
