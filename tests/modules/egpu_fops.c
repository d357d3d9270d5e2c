// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: /dev/hmm_p2p_egpu<N>. Each open file mirrors the address
 * space of the process that opened it, with an mmu interval notifier over
 * all of it (as lib/test_hmm.c does); see egpu_uapi.h for the commands.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "egpu.h"

static bool egpu_invalidate(struct mmu_interval_notifier *mni,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct egpu_file *f = container_of(mni, struct egpu_file, notifier);

	/* Wait for any device access that uses pfns of the old sequence. */
	if (mmu_notifier_range_blockable(range))
		mutex_lock(&f->lock);
	else if (!mutex_trylock(&f->lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	egpu_mirror_invalidate(f, range->start, range->end);
	mutex_unlock(&f->lock);
	return true;
}

static const struct mmu_interval_notifier_ops egpu_notifier_ops = {
	.invalidate = egpu_invalidate,
};

static int egpu_open(struct inode *inode, struct file *file)
{
	struct egpu *gpu = container_of(file->private_data, struct egpu, misc);
	struct egpu_file *f;
	int ret;

	if (!current->mm)
		return -EINVAL;
	f = kzalloc_obj(*f, GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	mutex_init(&f->mirror_lock);
	ret = mmu_interval_notifier_insert(&f->notifier, current->mm, 0,
					   ULONG_MAX & PAGE_MASK,
					   &egpu_notifier_ops);
	if (ret) {
		kfree(f);
		return ret;
	}
	/* misc_open() runs under misc_mtx: the GPU cannot be going away. */
	kref_get(&gpu->kref);
	f->gpu = gpu;
	file->private_data = f;
	return stream_open(inode, file);
}

static int egpu_release(struct inode *inode, struct file *file)
{
	struct egpu_file *f = file->private_data;

	mmu_interval_notifier_remove(&f->notifier);
	egpu_mirror_free(f);
	egpu_put(f->gpu);
	kfree(f);
	return 0;
}

static long egpu_ioctl_counters(struct egpu_file *f, void __user *arg)
{
	struct egpu *gpu = f->gpu;
	struct egpu_stats *s = &gpu->stats;
	struct egpu_counters c = {
		.migrate_to_dev = atomic64_read(&s->migrate_to_dev),
		.migrate_to_ram_fault = atomic64_read(&s->migrate_to_ram_fault),
		.migrate_to_ram_ioctl = atomic64_read(&s->migrate_to_ram_ioctl),
		.migrate_to_ram_evict = atomic64_read(&s->migrate_to_ram_evict),
		.dev_pages_in_use = atomic_long_read(&gpu->in_use),
		.dev_pages_total = gpu->npages,
		.dma_pages = atomic64_read(&s->dma_pages),
		.dma_p2p_pages = atomic64_read(&s->dma_p2p_pages),
		.dma_retries = atomic64_read(&s->dma_retries),
		.touch_pages = atomic64_read(&s->touch_pages),
		.alias_refused = atomic64_read(&s->alias_refused),
	};

	return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
}

static long egpu_ioctl_info(struct egpu_file *f, void __user *arg)
{
	struct egpu *gpu = f->gpu;
	struct egpu_info info = {
		.vram_size = (u64)gpu->npages << PAGE_SHIFT,
		.index = gpu->index,
	};

	strscpy(info.pci_name, pci_name(gpu->pdev), sizeof(info.pci_name));
	strscpy(info.provider, gpu->prov_name, sizeof(info.provider));
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long egpu_ioctl_clients(struct egpu_file *f, void __user *arg)
{
	struct egpu_clients *c;
	long ret;

	c = kzalloc_obj(*c, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = egpu_edu_list(f->gpu, c);
	if (!ret && copy_to_user(arg, c, sizeof(*c)))
		ret = -EFAULT;
	kfree(c);
	return ret;
}

static long egpu_ioctl_set_refuse(struct egpu_file *f, void __user *arg)
{
	struct egpu_refuse req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~EGPU_REFUSE_FLAGS)
		return -EINVAL;
	WRITE_ONCE(f->gpu->refuse_modulo, req.modulo);
	WRITE_ONCE(f->gpu->refuse_flags, req.flags);
	return 0;
}

static struct mm_struct *egpu_mm_of_pid(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	pid = find_get_pid(nr);
	if (!pid)
		return NULL;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return NULL;
	mm = get_task_mm(task);
	put_task_struct(task);
	return mm;
}

/*
 * HOLD_MM: another process's mmap lock, held for reading as a task stuck
 * in an unkillable fault holds it. Root only: it stalls that process.
 */
static long egpu_ioctl_hold_mm(void __user *arg)
{
	struct egpu_hold_mm req;
	struct mm_struct *mm;
	long ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.pid <= 0 || !req.ms || req.ms > 60000)
		return -EINVAL;
	mm = egpu_mm_of_pid(req.pid);
	if (!mm)
		return -ESRCH;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	if (msleep_interruptible(req.ms))
		ret = -EINTR;
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/* PROVIDER TEARDOWN takes remove_sem itself; the other ops are live. */
/* PROVIDER TEARDOWN or RECREATE (they take remove_sem for write), or -1. */
static int egpu_remove_sem_op(unsigned int cmd, unsigned long arg)
{
	struct egpu_provider req;

	if (cmd != EGPU_IOC_PROVIDER ||
	    copy_from_user(&req, (void __user *)arg, sizeof(req)))
		return -1;
	if (req.op == EGPU_PROVIDER_TEARDOWN ||
	    req.op == EGPU_PROVIDER_RECREATE)
		return req.op;
	return -1;
}

typedef long (*egpu_ioctl_fn)(struct egpu_file *f, void __user *arg);

/* Commands that need a live GPU and the opener's address space. */
static const struct {
	unsigned int cmd;
	egpu_ioctl_fn fn;
} egpu_live_ioctls[] = {
	{ EGPU_IOC_MIGRATE_TO_DEV, egpu_ioctl_migrate_to_dev },
	{ EGPU_IOC_MIGRATE_TO_RAM, egpu_ioctl_migrate_to_ram },
	{ EGPU_IOC_TOUCH, egpu_ioctl_touch },
	{ EGPU_IOC_READ_VRAM, egpu_ioctl_read_vram },
	{ EGPU_IOC_CLIENTS, egpu_ioctl_clients },
	{ EGPU_IOC_EDU_DMA, egpu_ioctl_edu_dma },
	{ EGPU_IOC_API_SELFTEST, egpu_ioctl_selftest },
	{ EGPU_IOC_SET_REFUSE, egpu_ioctl_set_refuse },
	{ EGPU_IOC_FAULT, egpu_ioctl_fault },
	{ EGPU_IOC_PROVIDER, egpu_ioctl_provider },
};

static egpu_ioctl_fn egpu_live_ioctl(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(egpu_live_ioctls); i++)
		if (egpu_live_ioctls[i].cmd == cmd)
			return egpu_live_ioctls[i].fn;
	return NULL;
}

static long egpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct egpu_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct egpu *gpu = f->gpu;
	egpu_ioctl_fn fn;
	long ret;

	/* These also answer after an unbind. */
	if (cmd == EGPU_IOC_COUNTERS)
		return egpu_ioctl_counters(f, uarg);
	if (cmd == EGPU_IOC_INFO)
		return egpu_ioctl_info(f, uarg);
	/* Needs no GPU: an unbind must not wait for the hold. */
	if (cmd == EGPU_IOC_HOLD_MM)
		return egpu_ioctl_hold_mm(uarg);
	switch (egpu_remove_sem_op(cmd, arg)) {
	case EGPU_PROVIDER_TEARDOWN:
		return current->mm == f->notifier.mm ? egpu_teardown(gpu) :
						       -EINVAL;
	case EGPU_PROVIDER_RECREATE:
		return current->mm == f->notifier.mm ?
			       egpu_recreate_pagemap(gpu) : -EINVAL;
	}

	fn = egpu_live_ioctl(cmd);
	if (!fn)
		return -ENOTTY;
	/* The notifier mirrors the opener's mm (think fork()). */
	if (current->mm != f->notifier.mm)
		return -EINVAL;

	down_read(&gpu->remove_sem);
	ret = gpu->dead ? -ENODEV : fn(f, uarg);
	up_read(&gpu->remove_sem);
	return ret;
}

const struct file_operations egpu_fops = {
	.owner = THIS_MODULE,
	.open = egpu_open,
	.release = egpu_release,
	.unlocked_ioctl = egpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
