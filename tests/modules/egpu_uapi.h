/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * hmm_p2p_egpu: the emulated GPU test driver's ioctl interface, shared by
 * the module and the userspace tests. One misc device per GPU:
 * /dev/hmm_p2p_egpu<N>, N in probe order.
 *
 * Common rules for every command that takes a range {addr, len}:
 *  - addr and len are page aligned, len is not zero, addr + len does not
 *    overflow and stays below the task size, len is at most the command's
 *    limit: otherwise -EINVAL;
 *  - an address without a VMA is -EFAULT;
 *  - reserved and padding fields must be zero (-EINVAL otherwise), so they
 *    can get a meaning later;
 *  - the range belongs to the process that opened the device (-EINVAL from
 *    another process, e.g. after fork()).
 * An ioctl on a GPU that has been unbound returns -ENODEV (COUNTERS and
 * INFO keep working). Unknown commands return -ENOTTY.
 */
#ifndef EGPU_UAPI_H
#define EGPU_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define EGPU_MAX_LEN		0x40000000ULL	/* 1 GiB: migrations, TOUCH */
#define EGPU_MAX_READ_LEN	0x400000ULL	/* 4 MiB: READ_VRAM */
#define EGPU_MAX_DMA_LEN	0x40000ULL	/* EDU_DMA: 64 pages of 4 KiB */
#define EGPU_MAX_FAULT_LEN	0x400000ULL	/* FAULT: 4 MiB */
#define EGPU_MAX_CLIENTS	8
#define EGPU_NAME_LEN		32

/* MIGRATE_TO_DEV, MIGRATE_TO_RAM */
struct egpu_migrate {
	__u64 addr;
	__u64 len;
	__u64 moved;		/* out: pages migrated by this call */
	__u64 reserved;
};

#define EGPU_TOUCH_ADD_INDEX	0x1U	/* write pattern + page index */
#define EGPU_TOUCH_FLAGS	EGPU_TOUCH_ADD_INDEX

/*
 * TOUCH: the GPU writes. Every page of the range that is not in this GPU's
 * memory is first migrated to it (pages of another GPU go through RAM),
 * then the GPU fills each page with the u64 @pattern (plus the page index
 * within the range with EGPU_TOUCH_ADD_INDEX). Needs a writable mapping.
 */
struct egpu_touch {
	__u64 addr;
	__u64 len;
	__u64 pattern;
	__u32 flags;
	__u32 pad;
	__u64 migrated;		/* out: pages migrated to this GPU */
	__u64 written;		/* out: pages written (== len / page size) */
};

/*
 * READ_VRAM: the GPU's own view. For each page of the range that is
 * device-private memory of this GPU, its VRAM bytes are copied to
 * buf + page offset and bit i of @resident is set; other pages leave their
 * part of buf untouched and their bit clear. @dev_pages (optional, may be
 * 0) receives one __u64 per page: its device page number, or ~0.
 */
struct egpu_read_vram {
	__u64 addr;
	__u64 len;
	__u64 buf;		/* user pointer, len bytes */
	__u64 resident;		/* user pointer, (pages + 7) / 8 bytes */
	__u64 dev_pages;	/* user pointer or 0 */
	__u64 nr_resident;	/* out */
};

struct egpu_counters {
	__u64 migrate_to_dev;		/* pages RAM -> VRAM */
	__u64 migrate_to_ram_fault;	/* pages VRAM -> RAM by migrate_to_ram */
	__u64 migrate_to_ram_ioctl;	/* pages VRAM -> RAM by MIGRATE_TO_RAM */
	__u64 migrate_to_ram_evict;	/* pages VRAM -> RAM at unbind */
	__u64 dev_pages_in_use;
	__u64 dev_pages_total;
	__u64 dma_pages;		/* pages moved by the edu for this GPU's ioctls */
	__u64 dma_p2p_pages;		/* of which P2P aliases */
	__u64 dma_retries;		/* -EBUSY and notifier retries in EDU_DMA */
	__u64 touch_pages;		/* pages written by TOUCH */
	__u64 alias_refused;		/* alias requests refused by SET_REFUSE */
	__u64 reserved[5];
};

struct egpu_client {
	char name[EGPU_NAME_LEN];	/* PCI name of the edu */
	__s32 distance;		/* pci_p2pdma_distance(this GPU, edu) */
	__u32 index;		/* the client index EDU_DMA takes */
};

struct egpu_clients {
	__u32 nr;			/* out */
	__u32 pad;
	struct egpu_client client[EGPU_MAX_CLIENTS];
};

#define EGPU_DMA_READ	0	/* range -> edu -> buf */
#define EGPU_DMA_WRITE	1	/* buf -> edu -> range */

/*
 * EDU_DMA: a DMA client (an edu device) moves the range through its
 * buffer. The pages are found with hmm_p2p_range_fault(range, edu) under
 * an mmu interval notifier, so device-private pages come back as P2P
 * aliases when the edu can reach the GPU's BAR and are migrated otherwise.
 * Bad client index: -ENODEV. A write into a read-only mapping fails as
 * hmm_range_fault() fails it (-EPERM).
 */
struct egpu_edu_dma {
	__u64 addr;
	__u64 len;
	__u64 buf;		/* user pointer, len bytes */
	__u32 client;
	__u32 dir;		/* EGPU_DMA_READ or EGPU_DMA_WRITE */
	__u64 pages;		/* out: pages moved */
	__u64 p2p_pages;	/* out: of which P2P aliases */
	__u64 retries;		/* out: -EBUSY and notifier retries */
};

/* API_SELFTEST: bit i of @failed is set if check i failed. */
struct egpu_selftest {
	__u64 failed;		/* out */
	__u32 nr_checks;	/* out */
	__u32 pad;
};

/*
 * SET_REFUSE: refuse the alias of device pages whose number % modulo == 0.
 * With EGPU_REFUSE_FOREIGN the alias callback answers the other pages with
 * the P2PDMA page at the same offset of another GPU's window (a buggy
 * provider), when another GPU is bound.
 */
#define EGPU_REFUSE_FOREIGN	0x1U
#define EGPU_REFUSE_FLAGS	EGPU_REFUSE_FOREIGN

struct egpu_refuse {
	__u32 modulo;		/* 0: refuse nothing */
	__u32 flags;		/* EGPU_REFUSE_* */
};

struct egpu_info {
	char pci_name[EGPU_NAME_LEN];
	char provider[64];	/* /sys/kernel/hmm_p2p/providers/<provider> */
	__u64 vram_size;
	__u32 index;		/* N of /dev/hmm_p2p_egpu<N> */
	__u32 pad;
};

/*
 * FAULT: hmm_p2p_range_fault() over the range for a client, as an ODP
 * driver would do it (under the file's notifier), and what came back; no
 * data moves. The client is an edu (@client is its index, as for EDU_DMA),
 * none (a client that accesses memory with the CPU, like rdma_rxe), or this
 * GPU's misc device: a device that is not PCI but has a PCI parent.
 * EGPU_FAULT_UNLOCKED faults with hmm_p2p_range_fault_unlocked_timeout()
 * (which may drop the mmap lock, as 7.3's ODP does) instead of the locked
 * call. Bad kind or client: -EINVAL / -ENODEV.
 */
#define EGPU_FAULT_CLIENT_EDU		0
#define EGPU_FAULT_CLIENT_CPU		1
#define EGPU_FAULT_CLIENT_NON_PCI	2

#define EGPU_FAULT_WRITE	0x1U
#define EGPU_FAULT_UNLOCKED	0x2U
/*
 * EGPU_FAULT_KEEP: fault into the file's persistent mirror of the range
 * (created, zeroed, when the range changes), the way ib_umem_odp keeps its
 * pfn list: the file's invalidate callback clears the slots it covers and
 * counts the alias slots it clears (@zaps). The counts are then of the
 * mirror, reported even when the fault fails.
 * EGPU_FAULT_SNAPSHOT: ask for no fault at all (default_flags 0).
 * EGPU_FAULT_OWN: the caller mirrors this GPU's own memory too
 * (dev_private_owner = the GPU): its pages come back as they are.
 * EGPU_FAULT_ODD_ONLY: per-slot requests (pfn_flags_mask), a fault asked
 * for odd pages only; not with KEEP.
 */
#define EGPU_FAULT_KEEP		0x4U
#define EGPU_FAULT_SNAPSHOT	0x8U
#define EGPU_FAULT_OWN		0x10U
#define EGPU_FAULT_ODD_ONLY	0x20U
/*
 * EGPU_FAULT_PLANT_STALE (with KEEP): before the walk, put a stale valid
 * slot (the zero page, not mapped by the device) into the mirror's first
 * slot, as a store that raced an invalidation leaves one.
 */
#define EGPU_FAULT_PLANT_STALE	0x40U
/*
 * EGPU_FAULT_PLANT_LATE (with KEEP): put that stale slot there during the
 * walk instead, when hmm-p2p first asks this GPU for an alias in this
 * call's task (the range must hold a page in this GPU's memory): after
 * hmm-p2p copied the slots and walked, before it stores its answers.
 * @planted says whether it happened. One such call per GPU at a time
 * (-EBUSY).
 */
#define EGPU_FAULT_PLANT_LATE	0x80U
#define EGPU_FAULT_FLAGS	(EGPU_FAULT_WRITE | EGPU_FAULT_UNLOCKED | \
				 EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT | \
				 EGPU_FAULT_OWN | EGPU_FAULT_ODD_ONLY | \
				 EGPU_FAULT_PLANT_STALE | EGPU_FAULT_PLANT_LATE)

struct egpu_fault {
	__u64 addr;
	__u64 len;
	__u32 client_kind;	/* EGPU_FAULT_CLIENT_* */
	__u32 client;		/* edu index for EGPU_FAULT_CLIENT_EDU */
	__u32 flags;		/* EGPU_FAULT_* */
	__u32 planted;		/* in: 0; out, PLANT_LATE: 1 if the slot was planted */
	__u64 valid;		/* out: slots with HMM_PFN_VALID */
	__u64 aliases;		/* out: of which P2PDMA pages */
	__u64 device_private;	/* out: of which device-private pages */
	__u64 retries;		/* out: -EBUSY and notifier retries */
	__u64 zaps;		/* out, KEEP: alias slots invalidations cleared */
};

/*
 * PROVIDER: change what this GPU tells hmm-p2p, as a GPU driver would at
 * run time. WITHDRAW and DECLARE remove and add its device-private pagemap
 * (-EALREADY if that is its state already); they first hold the GPU's
 * pagemap lock for @hold_ms, a lock its migrate_to_ram() takes too (like a
 * driver's device-memory lock). TEARDOWN unregisters the provider and
 * gives its BAR window back while the device stays bound (like unloading a
 * provider module): pages still in VRAM move to RAM first, every later
 * command but COUNTERS and INFO fails with -ENODEV, and unbinding and
 * rebinding the device brings the GPU back. RECREATE (xe_like only)
 * destroys the device-private pagemap and creates a new one, as xe's
 * shrinker and its next use do: pages in VRAM move to RAM first, the old
 * pagemap goes once gpu_p2p let go of it, the new one gets a new region.
 */
#define EGPU_PROVIDER_WITHDRAW	0
#define EGPU_PROVIDER_DECLARE	1
#define EGPU_PROVIDER_TEARDOWN	2
#define EGPU_PROVIDER_RECREATE	3

struct egpu_provider {
	__u32 op;		/* EGPU_PROVIDER_* */
	__u32 hold_ms;		/* at most 10000 */
};

/*
 * HOLD_MM: hold the mmap lock of process @pid for reading for @ms (at
 * most 60000; CAP_SYS_ADMIN), as a task stuck in a fault that cannot drop
 * it does (a GUP of a file whose server never answers). That process's
 * first mmu notifier, for example that of its first ODP memory region,
 * then waits for it. A signal to the caller ends the hold early (-EINTR).
 */
struct egpu_hold_mm {
	__s32 pid;
	__u32 ms;
};

#define EGPU_IOC_MAGIC	0xE6
#define EGPU_IOC_MIGRATE_TO_DEV	_IOWR(EGPU_IOC_MAGIC, 0x00, struct egpu_migrate)
#define EGPU_IOC_MIGRATE_TO_RAM	_IOWR(EGPU_IOC_MAGIC, 0x01, struct egpu_migrate)
#define EGPU_IOC_TOUCH		_IOWR(EGPU_IOC_MAGIC, 0x02, struct egpu_touch)
#define EGPU_IOC_READ_VRAM	_IOWR(EGPU_IOC_MAGIC, 0x03, struct egpu_read_vram)
#define EGPU_IOC_COUNTERS	_IOWR(EGPU_IOC_MAGIC, 0x04, struct egpu_counters)
#define EGPU_IOC_CLIENTS	_IOWR(EGPU_IOC_MAGIC, 0x05, struct egpu_clients)
#define EGPU_IOC_EDU_DMA	_IOWR(EGPU_IOC_MAGIC, 0x06, struct egpu_edu_dma)
#define EGPU_IOC_API_SELFTEST	_IOWR(EGPU_IOC_MAGIC, 0x07, struct egpu_selftest)
#define EGPU_IOC_SET_REFUSE	_IOWR(EGPU_IOC_MAGIC, 0x08, struct egpu_refuse)
#define EGPU_IOC_INFO		_IOWR(EGPU_IOC_MAGIC, 0x09, struct egpu_info)
#define EGPU_IOC_FAULT		_IOWR(EGPU_IOC_MAGIC, 0x0a, struct egpu_fault)
#define EGPU_IOC_PROVIDER	_IOWR(EGPU_IOC_MAGIC, 0x0b, struct egpu_provider)
#define EGPU_IOC_HOLD_MM	_IOW(EGPU_IOC_MAGIC, 0x0c, struct egpu_hold_mm)

#endif /* EGPU_UAPI_H */
