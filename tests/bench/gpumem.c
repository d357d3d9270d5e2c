// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhmm_p2p_gpumem.so: run Debian's unmodified perftest (or any verbs
 * program) with its ODP buffers in the emulated GPU's memory, the way
 * "--use_cuda" puts them in CUDA memory, and optionally with the GPU
 * touching them during the run, the way "--gpu_touch" does.
 *
 *   LD_PRELOAD=.../libhmm_p2p_gpumem.so HMM_P2P_GPUMEM=/dev/hmm_p2p_egpu0 \
 *   HMM_P2P_GPU_TOUCH=100 ib_write_bw --odp ...
 *
 * Environment:
 *   HMM_P2P_GPUMEM	GPU device file; every memory region registered with
 *			IBV_ACCESS_ON_DEMAND is migrated into its memory, and
 *			migrated back when it is deregistered (the buffer's
 *			life in GPU memory ends, as with cuMemFree() after
 *			--use_cuda: perftest then frees it with libc, whose
 *			allocator writes into it). Unset: the buffers stay in
 *			host memory.
 *   HMM_P2P_GPU_TOUCH	rate in Hz: a thread touches every such buffer at
 *			that rate (the GPU writes it with EGPU TOUCH; without
 *			HMM_P2P_GPUMEM the CPU writes it).
 *   HMM_P2P_GPUMEM_AT	"connect" (default): migrate when a QP is moved to
 *			RTR, i.e. after perftest has filled its buffer with
 *			the CPU (which would bring the pages back to RAM);
 *			"reg": migrate right after registration.
 *   HMM_P2P_GPUMEM_STATS	file to which one line of statistics is
 *			appended at exit.
 *
 * It interposes ibv_reg_mr, ibv_reg_mr_iova, ibv_reg_mr_iova2 (what
 * rdma-core's ibv_reg_mr() macro calls), ibv_dereg_mr and ibv_modify_qp,
 * and calls the real ones (dlsym RTLD_NEXT). The GPU serves only the
 * process that opened it, so the library opens it in this process.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "bench_touch.h"

#undef ibv_reg_mr
#undef ibv_reg_mr_iova

#define PG 4096UL

struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  int access);
struct ibv_mr *ibv_reg_mr_iova(struct ibv_pd *pd, void *addr, size_t length,
			       uint64_t iova, int access);
struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length,
				uint64_t iova, unsigned int access);

struct gm_buf {
	void *addr;		/* page aligned */
	size_t len;
	bool migrated;
};

static struct {
	pthread_mutex_t lock;
	bool init;
	const char *gpu_path;
	bool at_reg;
	double touch_hz;
	const char *stats;
	int gpu_fd;
	struct gm_buf buf[TOUCH_MAX_RANGES];
	int nr;
	struct touch touch;
	/* statistics */
	uint64_t mrs, registered, migrated, migrate_errors, released;
} gm = { .lock = PTHREAD_MUTEX_INITIALIZER, .gpu_fd = -1 };

static __thread int gm_depth;	/* the real functions may call each other */

static void gm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void gm_log(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("HMM_P2P_GPUMEM_VERBOSE"))
		return;
	fprintf(stderr, "hmm_p2p_gpumem[%d]: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *gm_real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "hmm_p2p_gpumem: no %s: %s\n", name, dlerror());
		abort();
	}
	return f;
}

/* Called with gm.lock held. */
static void gm_setup(void)
{
	const char *s;

	if (gm.init)
		return;
	gm.init = true;
	gm.gpu_path = getenv("HMM_P2P_GPUMEM");
	if (gm.gpu_path && !*gm.gpu_path)
		gm.gpu_path = NULL;
	s = getenv("HMM_P2P_GPUMEM_AT");
	gm.at_reg = s && !strcmp(s, "reg");
	s = getenv("HMM_P2P_GPU_TOUCH");
	gm.touch_hz = s ? atof(s) : 0;
	gm.stats = getenv("HMM_P2P_GPUMEM_STATS");
	if (gm.gpu_path) {
		gm.gpu_fd = open(gm.gpu_path, O_RDWR | O_CLOEXEC);
		if (gm.gpu_fd < 0) {
			fprintf(stderr, "hmm_p2p_gpumem: %s: %s\n", gm.gpu_path,
				strerror(errno));
			exit(2);
		}
	}
	touch_init(&gm.touch, gm.gpu_fd, gm.touch_hz);
}

/* Called with gm.lock held. */
static void gm_migrate(struct gm_buf *b)
{
	if (b->migrated)
		return;
	b->migrated = true;
	if (gm.gpu_fd >= 0) {
		struct egpu_migrate m = { (uintptr_t)b->addr, b->len, 0, 0 };

		if (ioctl(gm.gpu_fd, EGPU_IOC_MIGRATE_TO_DEV, &m)) {
			gm.migrate_errors++;
			fprintf(stderr, "hmm_p2p_gpumem: MIGRATE_TO_DEV %p+%zu: %s\n",
				b->addr, b->len, strerror(errno));
		}
		gm.migrated += m.moved;
		gm_log("%p+%zu: %llu pages into %s", b->addr, b->len,
		       (unsigned long long)m.moved, gm.gpu_path);
	}
	touch_add(&gm.touch, b->addr, b->len);
	if (touch_start(&gm.touch))
		fprintf(stderr, "hmm_p2p_gpumem: no touch thread\n");
}

static void gm_registered(struct ibv_mr *mr, void *addr, size_t length,
			  unsigned int access)
{
	uintptr_t start = (uintptr_t)addr & ~(PG - 1);
	uintptr_t end = ((uintptr_t)addr + length + PG - 1) & ~(PG - 1);
	int i;

	if (!mr || !(access & IBV_ACCESS_ON_DEMAND) || !length)
		return;
	pthread_mutex_lock(&gm.lock);
	gm_setup();
	if (!gm.gpu_path && gm.touch_hz <= 0)
		goto out;
	for (i = 0; i < gm.nr; i++)
		if (gm.buf[i].addr == (void *)start &&
		    gm.buf[i].len == end - start)
			goto out;
	if (gm.nr == TOUCH_MAX_RANGES)
		goto out;
	gm.buf[gm.nr].addr = (void *)start;
	gm.buf[gm.nr].len = end - start;
	gm.buf[gm.nr].migrated = false;
	gm.mrs++;
	gm.registered += (end - start) / PG;
	if (gm.at_reg)
		gm_migrate(&gm.buf[gm.nr]);
	gm.nr++;
out:
	pthread_mutex_unlock(&gm.lock);
}

struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			  int access)
{
	static struct ibv_mr *(*real)(struct ibv_pd *, void *, size_t, int);
	struct ibv_mr *mr;

	if (!real)
		real = gm_real("ibv_reg_mr");
	gm_depth++;
	mr = real(pd, addr, length, access);
	gm_depth--;
	if (!gm_depth)
		gm_registered(mr, addr, length, access);
	return mr;
}

struct ibv_mr *ibv_reg_mr_iova(struct ibv_pd *pd, void *addr, size_t length,
			       uint64_t iova, int access)
{
	static struct ibv_mr *(*real)(struct ibv_pd *, void *, size_t, uint64_t,
				      int);
	struct ibv_mr *mr;

	if (!real)
		real = gm_real("ibv_reg_mr_iova");
	gm_depth++;
	mr = real(pd, addr, length, iova, access);
	gm_depth--;
	if (!gm_depth)
		gm_registered(mr, addr, length, access);
	return mr;
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length,
				uint64_t iova, unsigned int access)
{
	static struct ibv_mr *(*real)(struct ibv_pd *, void *, size_t, uint64_t,
				      unsigned int);
	struct ibv_mr *mr;

	if (!real)
		real = gm_real("ibv_reg_mr_iova2");
	gm_depth++;
	mr = real(pd, addr, length, iova, access);
	gm_depth--;
	if (!gm_depth)
		gm_registered(mr, addr, length, access);
	return mr;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask)
{
	static int (*real)(struct ibv_qp *, struct ibv_qp_attr *, int);
	int ret, i;

	if (!real)
		real = gm_real("ibv_modify_qp");
	ret = real(qp, attr, mask);
	if (ret || !(mask & IBV_QP_STATE) ||
	    (attr->qp_state != IBV_QPS_RTR && attr->qp_state != IBV_QPS_RTS))
		return ret;
	pthread_mutex_lock(&gm.lock);
	for (i = 0; i < gm.nr; i++)
		gm_migrate(&gm.buf[i]);
	pthread_mutex_unlock(&gm.lock);
	return ret;
}

/* Called with gm.lock held, once the NIC no longer uses @b. */
static void gm_release(struct gm_buf *b)
{
	struct egpu_migrate m = { (uintptr_t)b->addr, b->len, 0, 0 };

	if (!b->migrated || gm.gpu_fd < 0)
		return;
	if (ioctl(gm.gpu_fd, EGPU_IOC_MIGRATE_TO_RAM, &m))
		fprintf(stderr, "hmm_p2p_gpumem: MIGRATE_TO_RAM %p+%zu: %s\n",
			b->addr, b->len, strerror(errno));
	gm.released += m.moved;
	gm_log("%p+%zu: %llu pages back from %s", b->addr, b->len,
	       (unsigned long long)m.moved, gm.gpu_path);
}

int ibv_dereg_mr(struct ibv_mr *mr)
{
	static int (*real)(struct ibv_mr *);
	uintptr_t start = 0, end = 0;
	int i, ret;

	if (!real)
		real = gm_real("ibv_dereg_mr");
	if (mr && mr->addr && mr->length) {
		start = (uintptr_t)mr->addr & ~(PG - 1);
		end = ((uintptr_t)mr->addr + mr->length + PG - 1) & ~(PG - 1);
		pthread_mutex_lock(&gm.lock);
		if (gm.init)
			touch_remove(&gm.touch, (void *)start, end - start);
		pthread_mutex_unlock(&gm.lock);
	}
	ret = real(mr);
	if (ret || start == end)
		return ret;
	pthread_mutex_lock(&gm.lock);
	for (i = 0; i < gm.nr; i++)
		if (gm.buf[i].addr == (void *)start &&
		    gm.buf[i].len == end - start) {
			gm_release(&gm.buf[i]);
			gm.buf[i--] = gm.buf[--gm.nr];
		}
	pthread_mutex_unlock(&gm.lock);
	return ret;
}

__attribute__((destructor)) static void gm_fini(void)
{
	FILE *f;

	if (!gm.init)
		return;
	touch_stop(&gm.touch);
	if (!gm.stats)
		return;
	f = fopen(gm.stats, "a");
	if (!f)
		return;
	fprintf(f,
		"pid=%d mrs=%llu registered=%llu migrated=%llu migrate_errors=%llu released=%llu touches=%llu touch_migrated=%llu touch_errors=%llu\n",
		getpid(), (unsigned long long)gm.mrs,
		(unsigned long long)gm.registered,
		(unsigned long long)gm.migrated,
		(unsigned long long)gm.migrate_errors,
		(unsigned long long)gm.released,
		(unsigned long long)gm.touch.touches,
		(unsigned long long)gm.touch.migrated,
		(unsigned long long)gm.touch.errors);
	fclose(f);
}
