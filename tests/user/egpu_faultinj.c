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
 * (configured with task-filter by tests/vm/fault-inject) fail allocations
 * made on this task's behalf. Without it the same sequence runs uninjected
 * and every operation must succeed: the baseline of the normal suite.
 *
 * The second test loads hmm_p2p.ko and hmm_p2p_egpu.ko (read into memory
 * first, then init_module()) under injection: each loads whole or fails
 * with an errno and leaves nothing behind, and what loaded works. Only the
 * module's own initialisation runs injected: reading files or exec'ing
 * modprobe under injection would also fail the 9p root file system of the
 * test VM, whose client does not survive that.
 *
 * Needs: hmm_p2p and hmm_p2p_egpu loaded (the first test), not loaded (the
 * second), /dev/hmm_p2p_egpu0, edu clients on both sides of the PCIe switch.
 */
#include <sys/syscall.h>

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

static bool fi_errno_allowed(int ret)
{
	unsigned int i;

	for (i = 0; i < sizeof(allowed_errnos) / sizeof(allowed_errnos[0]); i++)
		if (ret == -allowed_errnos[i])
			return true;
	return false;
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

	/* Recovered: uninjected, the whole path works and P2P happens. */
	r.inject = false;
	{
		struct egpu_edu_dma d;
		uint64_t moved = 0;

		ASSERT_EQ(egpu_migrate(fd, true, r.buf, NP * PG, &moved), 0);
		ASSERT_EQ(egpu_dma(fd, near, EGPU_DMA_READ, r.buf, NP * PG, r.io, &d), 0);
		EXPECT_EQ(d.p2p_pages, NP);
		fi_expect_model(&r, r.io, "DMA read after injection");
		fi_cpu_read(&r, false);
	}
}

/* A module image, read uninjected. */
static void *fi_read_module(const char *name, size_t *len)
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

/* init_module() with injection armed: 0 or -errno. */
static int fi_init_module(struct fi_run *r, void *image, size_t len)
{
	long ret;

	fi_arm(r, true);
	ret = syscall(SYS_init_module, image, len, "");
	fi_arm(r, false);
	return ret ? -errno : 0;
}

static void fi_unload(const char *name)
{
	if (fi_module_loaded(name))
		ASSERT_EQ(syscall(SYS_delete_module, name, O_NONBLOCK), 0);
	ASSERT_FALSE(fi_module_loaded(name));
}

TEST_TIMEOUT(faultinj_module_load, 900)
{
	const char *env = getenv("HMM_P2P_FAULT_INJECT");
	struct fi_run r = { .inject = env && !strcmp(env, "1") };
	unsigned int it, iters = r.inject ? 12 : 1, whole = 0;
	size_t core_len, egpu_len;
	void *core, *egpu;
	int ret;

	if (fi_module_loaded("hmm_p2p"))
		SKIP("hmm_p2p is loaded: this test loads it itself");
	core = fi_read_module("hmm_p2p", &core_len);
	egpu = fi_read_module("hmm_p2p_egpu", &egpu_len);
	if (r.inject) {
		r.fail_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (r.fail_fd < 0)
			SKIP("/proc/self/make-it-fail: %s (no CONFIG_FAULT_INJECTION)",
			     strerror(errno));
	}
	fi_lock_memory(&r);

	for (it = 0; it < iters; it++) {
		ret = fi_init_module(&r, core, core_len);
		if (fi_result(&r, "init_module(hmm_p2p)", ret)) {
			/* Whole: its counters are there. */
			ASSERT_FALSE(access(SYSFS_P2P "/providers", F_OK));
			ret = fi_init_module(&r, egpu, egpu_len);
			if (fi_result(&r, "init_module(hmm_p2p_egpu)", ret))
				whole++;
			else
				ASSERT_FALSE(fi_module_loaded("hmm_p2p_egpu"));
		} else {
			/* Nothing left behind. */
			ASSERT_FALSE(fi_module_loaded("hmm_p2p"));
			ASSERT_TRUE(access(SYSFS_P2P, F_OK));
		}
		fi_unload("hmm_p2p_egpu");
		fi_unload("hmm_p2p");
	}
	TH_LOG("%u of %u loads whole, %u init_module() calls failed with an allowed errno",
	       whole, iters, r.failed);

	/* Recovered: uninjected, both load and the GPU works. */
	r.inject = false;
	ASSERT_EQ(fi_init_module(&r, core, core_len), 0);
	ASSERT_EQ(fi_init_module(&r, egpu, egpu_len), 0);
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
	fi_unload("hmm_p2p_egpu");
	fi_unload("hmm_p2p");
}

TAP_MAIN()
