/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * hmm_p2p_engine: the NIC-speed engine's ioctl interface, shared by the
 * module and tests/bench. One misc device, /dev/hmm_p2p_engine; each open
 * file serves the process that calls its ioctls (current->mm).
 *
 * RUN models an ODP NIC moving messages into (or out of) a registered
 * range at memory speed: it mirrors the range under an mmu interval
 * notifier, keeps a per-page "translation valid" bitmap that the notifier
 * clears (as an ODP MR's MTT is zapped), resolves a message's pages with
 * the canonical retry loop when any of them is not mirrored, and copies
 * the message with the CPU through the pages' kernel mapping while holding
 * the lock the invalidate callback takes.
 *
 * FAULT_BENCH times the fault path alone over a range of system RAM:
 * hmm_p2p_range_fault(range, NULL) against hmm_range_fault(), interleaved
 * pair by pair, and reports medians.
 *
 * COPY_BENCH times RUN's copy loop alone, message by message, on two
 * ranges resolved as RUN resolves them: one in system RAM, one in GPU
 * memory (P2PDMA aliases), interleaved pair by pair; it reports medians and
 * how many of the second range's pages were aliases.
 *
 * Rules: addr and len page aligned, len not zero and at most
 * ENGINE_MAX_LEN, msg_size a page multiple, at most len and ENGINE_MAX_MSG,
 * reserved fields zero; otherwise -EINVAL. No VMA: -EFAULT. A fatal signal ends a run with -EINTR.
 */
#ifndef ENGINE_UAPI_H
#define ENGINE_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ENGINE_MAX_LEN		0x10000000ULL	/* 256 MiB */
#define ENGINE_MAX_MSG		0x1000000ULL	/* 16 MiB */
#define ENGINE_MAX_REPS		100001

#define ENGINE_MODE_P2P		0	/* hmm_p2p_range_fault(range, NULL) */
#define ENGINE_MODE_STOCK	1	/* hmm_range_fault(range): migrates */

#define ENGINE_DIR_WRITE	0	/* wire -> range (an RDMA WRITE lands) */
#define ENGINE_DIR_READ		1	/* range -> wire (an RDMA READ source) */

struct engine_run {
	__u64 addr;		/* the registered range (the "MR") */
	__u64 len;
	__u64 msg_size;		/* bytes per message; messages cycle over the range */
	__u64 max_msgs;		/* stop after this many messages ... */
	__u32 max_ms;		/* ... or after this many milliseconds (0: no limit) */
	__u32 mode;		/* ENGINE_MODE_* */
	__u32 dir;		/* ENGINE_DIR_* */
	__u32 reserved;
	/* out */
	__u64 msgs;		/* messages moved */
	__u64 bytes;		/* bytes moved */
	__u64 ns;		/* wall time of the run */
	__u64 faults;		/* range faults (messages with an unmirrored page) */
	__u64 fault_pages;	/* pages resolved by those faults */
	__u64 fault_ns;		/* time spent resolving */
	__u64 retries;		/* -EBUSY and mmu_interval_read_retry() retries */
	__u64 invalidations;	/* invalidate callbacks that hit the range */
	__u64 p2p_pages;	/* resolved pages that were P2PDMA aliases */
};

struct engine_fault_bench {
	__u64 addr;		/* system RAM, populated by the caller */
	__u64 len;
	__u32 reps;		/* pairs of walks, at most ENGINE_MAX_REPS */
	__u32 reserved;
	/* out: per walk of the whole range */
	__u64 p2p_ns_median;
	__u64 stock_ns_median;
	__u64 ratio_ppm_median;	/* median over pairs of p2p/stock, x 10^6 */
	__u64 p2p_ns_min;
	__u64 stock_ns_min;
	__u64 retries;		/* walks repeated after -EBUSY */
};

struct engine_copy_bench {
	__u64 ram_addr;		/* a range in system RAM */
	__u64 gpu_addr;		/* a range of the same length in GPU memory */
	__u64 len;
	__u64 msg_size;		/* bytes per message; messages cycle over the range */
	__u32 reps;		/* pairs of messages, at most ENGINE_MAX_REPS */
	__u32 dir;		/* ENGINE_DIR_* */
	/* out: per message */
	__u64 ram_ns_median;
	__u64 gpu_ns_median;
	__u64 ratio_ppm_median;	/* median over pairs of ram/gpu time, x 10^6 */
	__u64 gpu_alias_pages;	/* pages of the GPU range that were aliases */
	__u64 ram_alias_pages;	/* pages of the RAM range that were (0) */
	__u64 retries;
};

#define ENGINE_IOC_MAGIC	0xE7
#define ENGINE_IOC_RUN		_IOWR(ENGINE_IOC_MAGIC, 0x00, struct engine_run)
#define ENGINE_IOC_FAULT_BENCH	_IOWR(ENGINE_IOC_MAGIC, 0x01, struct engine_fault_bench)
#define ENGINE_IOC_COPY_BENCH	_IOWR(ENGINE_IOC_MAGIC, 0x02, struct engine_copy_bench)

#endif /* ENGINE_UAPI_H */
