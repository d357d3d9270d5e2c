// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core path under allocation failures: migrate to VRAM, DMA reads and
 * writes by a reachable (P2P) and an unreachable (fallback) edu, CPU reads
 * that fault device pages back, migrate to RAM. Each operation either
 * succeeds with exactly the right bytes or fails with an errno an
 * allocation failure explains; a failed write leaves every page holding its
 * old or its new contents, never anything else; and once injection stops,
 * everything works again.
 *
 * With HMM_P2P_FAULT_INJECT=1 in the environment, each operation runs with
 * /proc/self/make-it-fail set, so the kernel's failslab and fail_page_alloc
 * (configured with task-filter by tests/vm/run-suite) fail allocations
 * made on this task's behalf. Without it the same sequence runs uninjected
 * and every operation must succeed: the baseline of the normal suite.
 *
 * The second test loads hmm_p2p.ko, then with it hmm_p2p_egpu.ko and, where
 * built, mlx5_odp_p2p.ko (read into memory first, then init_module()),
 * failing one fault point at a time with /proc/thread-self/fail-nth: it
 * counts the fault points of a whole load (the allocations the
 * fault-injection filters let through: the suite keeps them to those made
 * on behalf of module code, and hmm_p2p_fishield.ko keeps out kernel
 * functions whose own failure handling is broken), then fails each one in
 * turn (HMM_P2P_FAULT_NTH_MAX=N: an even spread of N of them, for a quicker
 * run). Each load is whole or fails with an errno and leaves nothing
 * behind; what loaded unloads, and once injection stops, everything works.
 * Only init_module() runs injected: reading files or exec'ing modprobe
 * under injection would also fail the 9p root file system of the test VM,
 * whose client does not survive that.
 *
 * Needs: hmm_p2p and hmm_p2p_egpu loaded (the first test), not loaded (the
 * second; ib_core loaded for mlx5_odp_p2p), /dev/hmm_p2p_egpu0, edu clients
 * on both sides of the PCIe switch.
 */
#include <limits.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

#include "egpu_test.h"

#define NP	2	/* pages per operation: each DMA'd page costs ~200 ms */

static const int allowed_errnos[] = { ENOMEM, EFAULT, EBUSY, EAGAIN, EIO };

struct fi_run {
	bool inject;
	int fail_fd;		/* /proc/self/make-it-fail, opened uninjected */
	unsigned int ops, failed;
	uint8_t *buf;		/* the range under test, NP pages */
	uint8_t *io;		/* DMA source/destination, prefaulted */
	uint8_t *copy;		/* CPU copy of buf, prefaulted */
	uint64_t seed[NP];	/* what page i of buf holds */
};

/* The write allocates nothing, so disarming cannot itself be failed. */
static void fi_arm(const struct fi_run *r, bool on)
{
	if (r->inject)
		ASSERT_EQ(pwrite(r->fail_fd, on ? "1" : "0", 1, 0), 1);
}

/*
 * Keep the test's own text and data resident: a fault on them under
 * injection would go to the VM's 9p root file system.
 */
static void fi_lock_memory(const struct fi_run *r)
{
	if (r->inject && mlockall(MCL_CURRENT))
		TH_LOG("mlockall: %s (going on)", strerror(errno));
}

/*
 * Stay on one CPU: pages a migration brings back to RAM wait in that CPU's
 * LRU batch, and the next migration to VRAM drains only the local batch;
 * from another CPU it could not isolate them and would leave them behind.
 */
static void fi_pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		TH_LOG("sched_setaffinity: %s (going on)", strerror(errno));
}

static bool fi_errno_allowed(int ret)
{
	unsigned int i;

	for (i = 0; i < sizeof(allowed_errnos) / sizeof(allowed_errnos[0]); i++)
		if (ret == -allowed_errnos[i])
			return true;
	return false;
}

/*
 * Loading also allows EINVAL: the driver core's module_add_driver() returns
 * it when /sys/module/<module>/drivers cannot be allocated, and
 * pci_register_driver() passes it on.
 */
static bool fi_load_errno_allowed(int ret)
{
	return fi_errno_allowed(ret) || ret == -EINVAL;
}

/* Count an operation; an uninjected run allows no failure at all. */
static bool fi_result(struct fi_run *r, const char *op, int ret)
{
	r->ops++;
	if (!ret)
		return true;
	r->failed++;
	TH_LOG("%s: %s", op, strerror(-ret));
	ASSERT_TRUE(r->inject);
	ASSERT_TRUE(fi_errno_allowed(ret));
	return false;
}

static bool fi_page_is(const uint8_t *p, size_t i, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)(p + i * PG);
	size_t j;

	for (j = 0; j < PG / 8; j++)
		if (w[j] != pattern_word(seed, i, j))
			return false;
	return true;
}

static void fi_fill(uint8_t *p, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p;
	size_t i, j;

	for (i = 0; i < NP; i++)
		for (j = 0; j < PG / 8; j++)
			w[i * (PG / 8) + j] = pattern_word(seed, i, j);
}

/* Every page of @p holds exactly what the model says. */
static void fi_expect_model(const struct fi_run *r, const uint8_t *p,
			    const char *what)
{
	size_t i;

	for (i = 0; i < NP; i++)
		if (!fi_page_is(p, i, r->seed[i])) {
			TH_LOG("%s: page %zu lost its contents (seed %" PRIu64 ")",
			       what, i, r->seed[i]);
			ASSERT_TRUE(false);
		}
}

/* The CPU reads buf (faulting device pages back, injected or not). */
static void fi_cpu_read(struct fi_run *r, bool injected)
{
	fi_arm(r, injected);
	memcpy(r->copy, r->buf, NP * PG);
	fi_arm(r, false);
	r->ops++;
	fi_expect_model(r, r->copy, "CPU read");
}

static void fi_migrate(struct fi_run *r, int fd, bool to_dev)
{
	int ret;

	fi_arm(r, true);
	ret = egpu_migrate(fd, to_dev, r->buf, NP * PG, NULL);
	fi_arm(r, false);
	fi_result(r, to_dev ? "migrate to VRAM" : "migrate to RAM", ret);
}

static void fi_dma_read(struct fi_run *r, int fd, unsigned int client)
{
	int ret;

	memset(r->io, 0, NP * PG);
	fi_arm(r, true);
	ret = egpu_dma(fd, client, EGPU_DMA_READ, r->buf, NP * PG, r->io, NULL);
	fi_arm(r, false);
	if (fi_result(r, "DMA read", ret))
		fi_expect_model(r, r->io, "DMA read");
}

/* A failed write may have written some pages: each is old or new. */
static void fi_dma_write(struct fi_run *r, int fd, unsigned int client,
			 uint64_t seed)
{
	size_t i;
	int ret;

	fi_fill(r->io, seed);
	fi_arm(r, true);
	ret = egpu_dma(fd, client, EGPU_DMA_WRITE, r->buf, NP * PG, r->io, NULL);
	fi_arm(r, false);
	if (fi_result(r, "DMA write", ret)) {
		for (i = 0; i < NP; i++)
			r->seed[i] = seed;
		return;
	}
	memcpy(r->copy, r->buf, NP * PG);
	for (i = 0; i < NP; i++) {
		if (fi_page_is(r->copy, i, seed))
			r->seed[i] = seed;
		else if (!fi_page_is(r->copy, i, r->seed[i]))
			TH_LOG("failed DMA write: page %zu is neither old nor new", i);
		ASSERT_TRUE(r->seed[i] == seed || fi_page_is(r->copy, i, r->seed[i]));
	}
}

TEST_TIMEOUT(faultinj_migrate_dma_cpu, 900)
{
	const char *env = getenv("HMM_P2P_FAULT_INJECT");
	struct fi_run r = { .inject = env && !strcmp(env, "1") };
	int fd = egpu_open_or_skip(0);
	unsigned int near = egpu_client(fd, true), far = egpu_client(fd, false);
	unsigned int it, iters = r.inject ? 10 : 2;
	size_t i;

	if (r.inject) {
		r.fail_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (r.fail_fd < 0)
			SKIP("/proc/self/make-it-fail: %s (no CONFIG_FAULT_INJECTION)",
			     strerror(errno));
	}
	r.buf = map_pages(NP);
	r.io = map_pages(NP);
	r.copy = map_pages(NP);
	memset(r.io, 0, NP * PG);
	memset(r.copy, 0, NP * PG);
	fi_fill(r.buf, 1);
	fi_pin_cpu();
	fi_lock_memory(&r);
	for (i = 0; i < NP; i++)
		r.seed[i] = 1;

	for (it = 0; it < iters; it++) {
		unsigned int client = it % 2 ? far : near;

		fi_migrate(&r, fd, true);
		fi_dma_read(&r, fd, client);
		fi_dma_write(&r, fd, client, 100 + it);
		fi_migrate(&r, fd, true);
		fi_cpu_read(&r, true);
		fi_migrate(&r, fd, false);
		fi_expect_model(&r, r.buf, "after migrate to RAM");
	}
	TH_LOG("%u operations, %u failed with an allowed errno (%s)", r.ops,
	       r.failed, r.inject ? "allocation failures injected" : "no injection");

	/*
	 * Recovered: uninjected, the whole path works and P2P happens for
	 * every page. Migration is best effort (a page another reference
	 * holds stays behind), so it is retried a few times; a page that
	 * never moves means a failed operation kept a reference to it.
	 */
	r.inject = false;
	{
		struct egpu_edu_dma d = { 0 };
		unsigned int try;

		for (try = 0; try < 5; try++) {
			ASSERT_EQ(egpu_migrate(fd, true, r.buf, NP * PG, NULL), 0);
			ASSERT_EQ(egpu_dma(fd, near, EGPU_DMA_READ, r.buf, NP * PG,
					   r.io, &d), 0);
			fi_expect_model(&r, r.io, "DMA read after injection");
			if (d.p2p_pages == NP)
				break;
			TH_LOG("after injection: %llu of %u pages P2P, migrating again",
			       (unsigned long long)d.p2p_pages, NP);
			usleep(100000);
		}
		EXPECT_EQ(d.p2p_pages, NP);
		fi_cpu_read(&r, false);
	}
}

/* A module image, read uninjected; NULL if @optional and not built. */
static void *fi_read_module(const char *name, size_t *len, bool optional)
{
	const char *dir = getenv("HMM_P2P_BUILD");
	char path[512];
	struct stat st;
	void *image;
	int fd;

	if (!dir)
		SKIP("HMM_P2P_BUILD is not set (run through scripts/vm-run)");
	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && optional && errno == ENOENT)
		return NULL;
	if (fd < 0)
		SKIP("%s: %s", path, strerror(errno));
	ASSERT_EQ(fstat(fd, &st), 0);
	image = malloc(st.st_size);
	ASSERT_TRUE(image != NULL);
	ASSERT_EQ(read(fd, image, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return image;
}

static bool fi_module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

static void fi_unload(const char *name)
{
	if (fi_module_loaded(name))
		ASSERT_EQ(syscall(SYS_delete_module, name, O_NONBLOCK), 0);
	ASSERT_FALSE(fi_module_loaded(name));
}

/* Far more fault points than any load has: arming with it only counts. */
#define FI_COUNT_ONLY	1000000000u

struct fi_nth {
	int fd;			/* /proc/thread-self/fail-nth, opened uninjected */
	unsigned int loads, whole, failed, not_reached, probe_failed;
};

/* Neither the write nor the read of fail-nth allocates. */
static void fi_nth_arm(const struct fi_nth *f, unsigned int nth)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%u", nth);

	ASSERT_EQ(pwrite(f->fd, num, len, 0), len);
}

static unsigned int fi_nth_left(const struct fi_nth *f)
{
	char num[16] = "";

	ASSERT_GT(pread(f->fd, num, sizeof(num) - 1, 0), 0);
	return strtoul(num, NULL, 10);
}

/*
 * init_module() with the @nth fault point of this thread failing (0: none).
 * Returns 0 or -errno; *left is what remained of @nth (0: it was injected).
 */
static int fi_init_module_nth(const struct fi_nth *f, void *image, size_t len,
			      unsigned int nth, unsigned int *left)
{
	long ret;

	fi_nth_arm(f, nth);
	ret = syscall(SYS_init_module, image, len, "");
	ret = ret ? -errno : 0;
	*left = fi_nth_left(f);
	fi_nth_arm(f, 0);
	return ret;
}

/* The fault points of a whole, uninjected load of @image. */
static unsigned int fi_count_points(const struct fi_nth *f, const char *name,
				    void *image, size_t len)
{
	unsigned int left;

	ASSERT_EQ(fi_init_module_nth(f, image, len, FI_COUNT_ONLY, &left), 0);
	ASSERT_TRUE(fi_module_loaded(name));
	fi_unload(name);
	return FI_COUNT_ONLY - left;
}

/* A whole hmm_p2p_egpu load with a GPU missing: that GPU's probe failed. */
static bool fi_gpu_missing(void)
{
	return access("/dev/hmm_p2p_egpu0", F_OK) ||
	       access("/dev/hmm_p2p_egpu1", F_OK);
}

/*
 * Load @name failing its @nth fault point: whole, or an allowed errno and
 * nothing left behind. A failed probe of hmm_p2p_egpu does not fail its
 * init_module() (the driver stays registered without that GPU): unloading
 * then shows the probe's error path left nothing behind.
 */
static void fi_load_failing(struct fi_nth *f, const char *name, void *image,
			    size_t len, unsigned int nth)
{
	unsigned int left;
	int ret;

	ret = fi_init_module_nth(f, image, len, nth, &left);
	f->loads++;
	if (left)
		f->not_reached++;
	if (!ret) {
		f->whole++;
		ASSERT_TRUE(fi_module_loaded(name));
		if (!strcmp(name, "hmm_p2p"))
			ASSERT_FALSE(access(SYSFS_P2P "/providers", F_OK));
		else if (!strcmp(name, "hmm_p2p_egpu") && fi_gpu_missing())
			f->probe_failed++;
		fi_unload(name);
		return;
	}
	f->failed++;
	if (!fi_load_errno_allowed(ret))
		TH_LOG("init_module(%s), fault point %u failed: %s", name, nth,
		       strerror(-ret));
	ASSERT_TRUE(fi_load_errno_allowed(ret));
	ASSERT_FALSE(fi_module_loaded(name));
	if (!strcmp(name, "hmm_p2p"))
		ASSERT_TRUE(access(SYSFS_P2P, F_OK));
}

/* Fail fault points 1..@points, or @max of them spread evenly. */
static void fi_load_each_point(struct fi_nth *f, const char *name, void *image,
			       size_t len, unsigned int points, unsigned int max)
{
	unsigned int i, n = points < max ? points : max, prev = 0;

	for (i = 0; i < n; i++) {
		unsigned int nth = 1 + (unsigned int)((uint64_t)i * points / n);

		if (nth != prev)
			fi_load_failing(f, name, image, len, nth);
		prev = nth;
	}
}

static unsigned int fi_nth_max(void)
{
	const char *env = getenv("HMM_P2P_FAULT_NTH_MAX");

	return env && atoi(env) > 0 ? (unsigned int)atoi(env) : UINT_MAX;
}

/* A module loaded and failed point by point, and its fault points. */
struct fi_module {
	const char *name;
	bool optional;		/* tested only where it was built */
	void *image;
	size_t len;
	unsigned int points;
};

/*
 * hmm_p2p alone, then with hmm_p2p loaded its users: the emulated GPU
 * (providers, BAR windows, device-private memory) and, where built, the
 * ODP consumer (the hook engine; needs ib_core loaded).
 */
static struct fi_module fi_modules[] = {
	{ .name = "hmm_p2p" },
	{ .name = "hmm_p2p_egpu" },
	{ .name = "mlx5_odp_p2p", .optional = true },
};

#define FI_NR_MODULES (sizeof(fi_modules) / sizeof(fi_modules[0]))

/* With hmm_p2p loaded around it, except for hmm_p2p itself. */
static void fi_with_core(const struct fi_nth *f, const struct fi_module *m,
			 bool load)
{
	unsigned int left;

	if (m == &fi_modules[0])
		return;
	if (load)
		ASSERT_EQ(fi_init_module_nth(f, fi_modules[0].image,
					     fi_modules[0].len, 0, &left), 0);
	else
		fi_unload("hmm_p2p");
}

static void fi_inject_each_module(struct fi_nth *f)
{
	struct fi_module *m;

	for (m = fi_modules; m < fi_modules + FI_NR_MODULES; m++) {
		if (!m->image)
			continue;
		fi_with_core(f, m, true);
		m->points = fi_count_points(f, m->name, m->image, m->len);
		TH_LOG("%s: %u fault points in a whole load", m->name,
		       m->points);
		fi_load_each_point(f, m->name, m->image, m->len, m->points,
				   fi_nth_max());
		fi_with_core(f, m, false);
	}
}

TEST_TIMEOUT(faultinj_module_load, 1800)
{
	const char *env = getenv("HMM_P2P_FAULT_INJECT");
	bool inject = env && !strcmp(env, "1");
	struct fi_nth f = { .fd = -1 };
	struct fi_module *m;
	time_t t0;

	if (fi_module_loaded("hmm_p2p"))
		SKIP("hmm_p2p is loaded: this test loads it itself");
	for (m = fi_modules; m < fi_modules + FI_NR_MODULES; m++)
		m->image = fi_read_module(m->name, &m->len, m->optional);
	fi_pin_cpu();	/* the final migration must move every page */
	if (inject) {
		f.fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		if (f.fd < 0)
			SKIP("/proc/thread-self/fail-nth: %s (no CONFIG_FAULT_INJECTION)",
			     strerror(errno));
		if (mlockall(MCL_CURRENT))
			TH_LOG("mlockall: %s (going on)", strerror(errno));
		t0 = time(NULL);
		fi_inject_each_module(&f);
		TH_LOG("%u loads failing one fault point each (%lld s): %u whole",
		       f.loads, (long long)(time(NULL) - t0), f.whole);
		TH_LOG("(%u with a GPU probe failed), %u failed with an allowed errno,",
		       f.probe_failed, f.failed);
		TH_LOG("%u did not reach their fault point", f.not_reached);
		ASSERT_GT(f.failed, 0);
	}

	/* Recovered: uninjected, all load and the GPU works. */
	for (m = fi_modules; m < fi_modules + FI_NR_MODULES; m++)
		if (m->image)
			ASSERT_EQ(syscall(SYS_init_module, m->image, m->len, ""), 0);
	{
		int fd = egpu_open_or_skip(0);
		uint8_t *buf = map_pages(NP);
		uint64_t moved = 0;

		fi_fill(buf, 7);
		ASSERT_EQ(egpu_migrate(fd, true, buf, NP * PG, &moved), 0);
		ASSERT_EQ(moved, NP);
		ASSERT_TRUE(fi_page_is(buf, 0, 7) && fi_page_is(buf, 1, 7));
		close(fd);
		ASSERT_EQ(munmap(buf, NP * PG), 0);
	}
	for (m = fi_modules + FI_NR_MODULES; m-- > fi_modules;) {
		fi_unload(m->name);
		free(m->image);
	}
}

TAP_MAIN()
