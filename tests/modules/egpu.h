/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hmm_p2p_egpu: an emulated GPU for the hmm-p2p tests.
 *
 * Each ivshmem-plain PCI device is a "GPU" whose BAR2 is its VRAM. The VRAM
 * is exposed twice: as device-private pages (HMM migrates process memory
 * there) and, through the hmm-p2p BAR-window helper, as PCI P2PDMA pages
 * aliasing the same bytes. qemu edu devices are the DMA clients.
 */
#ifndef EGPU_H
#define EGPU_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>

#include "hmm_p2p.h"
#include "egpu_uapi.h"
#include "../../gpu_p2p/gpu_layout.h"

#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
#include <drm/drm_device.h>
#include <drm/drm_pagemap.h>
#include <drm/drm_pagemap_util.h>
/* What follows xe's pagemap in its struct xe_pagemap, up to the vr pointer. */
#define EGPU_XE_TAIL (GPUP2P_XE_PGMAP_TO_VR + sizeof(void *) - \
		      GPUP2P_XE_SIZEOF_DEV_PAGEMAP)
#define EGPU_XE_VRAM (GPUP2P_XE_VR_IO_SIZE + sizeof(resource_size_t))
#else
#define EGPU_XE_TAIL 1
#define EGPU_XE_VRAM 1
#endif

/* Module parameters (egpu_main.c). */
extern unsigned int egpu_vram_mb;
extern unsigned int egpu_dma_timeout_ms;
extern bool egpu_amdgpu_like;
extern bool egpu_xe_like;
extern unsigned int egpu_xe_io_mb;
extern bool egpu_own_p2pdma;
extern bool egpu_shared_owner;

/* A GPU whose driver knows nothing of hmm-p2p: gpu_p2p provides for it. */
static inline bool egpu_unaware(void)
{
	return egpu_amdgpu_like || egpu_xe_like;
}

struct egpu;
/* The dev_pagemap owner of @gpu's memory: @gpu, or the one shared by all. */
void *egpu_owner(struct egpu *gpu);
bool egpu_pdev_is_provider(struct pci_dev *pdev);
extern unsigned int egpu_retry_timeout_ms;

struct egpu_stats {
	atomic64_t migrate_to_dev;
	atomic64_t migrate_to_ram_fault;
	atomic64_t migrate_to_ram_ioctl;
	atomic64_t migrate_to_ram_evict;
	atomic64_t dma_pages;
	atomic64_t dma_p2p_pages;
	atomic64_t dma_retries;
	atomic64_t touch_pages;
	atomic64_t alias_refused;
};

struct egpu {
	struct kref kref;		/* the binding and every open file */
	struct pci_dev *pdev;
	int index;			/* N of /dev/hmm_p2p_egpu<N> */
	char misc_name[32];
	char prov_name[64];
	struct miscdevice misc;

	/*
	 * Ioctls run under remove_sem (read); unbind takes it for write to
	 * set @dead, so no ioctl allocates device pages after that.
	 */
	struct rw_semaphore remove_sem;
	bool dead;

	struct list_head node;		/* egpu_gpus: peers for SET_REFUSE */

	/*
	 * The GPU's "device-memory lock": taken by migrate_to_ram() and held
	 * around the PROVIDER changes, as a GPU driver holds its own lock
	 * while it adds or removes device memory.
	 */
	struct mutex pagemap_lock;
	bool pagemap_declared;		/* under pagemap_lock */
	/* prov and win go away once: at TEARDOWN or at unbind. */
	struct mutex teardown_lock;

	struct hmm_p2p_bar_window win;
	struct hmm_p2p_provider *prov;
	/* amdgpu_like: BAR2 reserved write-combined, and its MTRR. */
	bool wc_reserved;
	int wc_mtrr;
	struct resource *res;
	bool pgmap_live;

	spinlock_t alloc_lock;		/* the VRAM page bitmap */
	unsigned long *used;
	unsigned long npages;
	atomic_long_t in_use;

	unsigned int refuse_modulo;	/* SET_REFUSE; READ_ONCE in alias */
	unsigned int refuse_flags;	/* EGPU_REFUSE_*; READ_ONCE in alias */
	/* FAULT's PLANT_LATE: the slot plant_task's next alias makes stale */
	unsigned long *plant_late;
	struct task_struct *plant_task;
	struct egpu_stats stats;

#ifdef GPUP2P_XE_PGMAP_TO_DPAGEMAP
	/* xe_like: the drm_device the struct drm_pagemap names. */
	struct drm_device xe_drm;
#endif
	/* xe_like: xe's VRAM region, io_start and io_size where xe has them. */
	u8 xe_vram[EGPU_XE_VRAM] __aligned(8);

	/*
	 * Last but one: struct dev_pagemap ends with a flexible array (of one
	 * range here). In xe_like mode, what xe has after its pagemap follows
	 * at the offsets of gpu_p2p/gpu_layout.h: the struct drm_pagemap, then
	 * the pointer to the VRAM region.
	 */
	struct dev_pagemap pgmap;
	u8 xe_tail[EGPU_XE_TAIL];
};

/* One open file: a mirror of the opening process's address space. */
struct egpu_file {
	struct egpu *gpu;
	struct mmu_interval_notifier notifier;
	/*
	 * Held while the device uses pfns found under @notifier; the
	 * invalidate callback takes it too, so an invalidation waits for
	 * the device and a stale pfn is never used.
	 */
	struct mutex lock;
	/*
	 * FAULT with EGPU_FAULT_KEEP: a persistent mirror, kept as ib_umem_odp
	 * keeps its pfn list. The array and its range change under both locks;
	 * mirror_lock is held by the whole KEEP call, lock by the invalidate
	 * callback that clears slots.
	 */
	struct mutex mirror_lock;
	unsigned long *mirror;
	u64 mirror_start, mirror_npages;
	u64 mirror_zaps;		/* alias slots invalidations cleared */
};

struct egpu_edu {
	struct kref kref;
	struct list_head node;		/* egpu_edus, under egpu_edus_lock */
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct mutex lock;		/* one DMA user at a time; @gone */
	bool gone;
};

/* egpu_gpu.c */
extern struct pci_driver egpu_gpu_driver;
void egpu_put(struct egpu *gpu);
struct page *egpu_alloc_dev_page(struct egpu *gpu);
void *egpu_page_vram(struct egpu *gpu, struct page *page);
bool egpu_owns_page(struct egpu *gpu, struct page *page);
long egpu_ioctl_provider(struct egpu_file *f, void __user *arg);
long egpu_teardown(struct egpu *gpu);
long egpu_recreate_pagemap(struct egpu *gpu);
int egpu_plant_arm(struct egpu *gpu, unsigned long *slot);
bool egpu_plant_disarm(struct egpu *gpu);

/* egpu_edu.c */
extern struct pci_driver egpu_edu_driver;
struct egpu_edu *egpu_edu_get(unsigned int index);
void egpu_edu_put(struct egpu_edu *edu);
int egpu_edu_list(struct egpu *gpu, struct egpu_clients *out);
int egpu_edu_move(struct egpu_edu *edu, dma_addr_t from, dma_addr_t to);

/* egpu_migrate.c */
vm_fault_t egpu_migrate_to_ram(struct vm_fault *vmf);
long egpu_ioctl_migrate_to_dev(struct egpu_file *f, void __user *arg);
long egpu_ioctl_migrate_to_ram(struct egpu_file *f, void __user *arg);
long egpu_ioctl_touch(struct egpu_file *f, void __user *arg);
long egpu_ioctl_read_vram(struct egpu_file *f, void __user *arg);
int egpu_check_range(u64 addr, u64 len, u64 max_len);
void egpu_evict_all(struct egpu *gpu);

/* egpu_dma.c */
long egpu_ioctl_edu_dma(struct egpu_file *f, void __user *arg);

/* egpu_fault.c */
long egpu_ioctl_fault(struct egpu_file *f, void __user *arg);
void egpu_mirror_invalidate(struct egpu_file *f, unsigned long start,
			    unsigned long end);
void egpu_mirror_free(struct egpu_file *f);

/* egpu_selftest.c */
long egpu_ioctl_selftest(struct egpu_file *f, void __user *arg);

/* egpu_fops.c */
extern const struct file_operations egpu_fops;

#endif /* EGPU_H */
