// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fault path's contract seen from a consumer that keeps what it faulted:
 * rdma_rxe's ODP memory regions hold pfns (aliases, with hmm-p2p) until an
 * mmu notifier invalidates them, like a NIC's translation table.
 *  - An alias never outlives the BAR window behind it: a provider that goes
 *    away while the device stays bound gives its window back only after the
 *    pages it aliases left VRAM, which invalidates the region.
 *  - A page that needs a fault next to aliasable pages does not make them
 *    migrate, on the path the consumer takes.
 *  - A fault that fails leaves nothing stored past the address that
 *    failed, as the stock walk does.
 * Every byte moved is checked. Needs: hmm_p2p, hmm_p2p_egpu,
 * mlx5_odp_p2p devices=rxe and rxe_lo (tests/vm/run-suite sets them up).
 * The teardown test unbinds and rebinds GPU 0 to bring it back.
 */
#include "tap.h"
#include "egpu_test.h"
#include "rxe_test.h"

#define NPAGES 8

/* The consumer serving rxe with P2P on: every test here needs it. */
static void rxe_p2p_or_skip(void)
{
	if (access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	odp_or_skip();
	consumer_set("devices", "rxe");
	consumer_set("enable", "Y");
}

static int wait_open(int n, int seconds)
{
	int i, fd = -1;

	for (i = 0; i < seconds * 10 && fd < 0; i++) {
		fd = egpu_open(n);
		if (fd < 0)
			usleep(100000);
	}
	return fd;
}

/* Fill every byte of GPU @pci's free P2PDMA pool with 0xa5; 0 or -errno. */
static int scribble_p2pmem(const char *pci, size_t len, void **map)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate",
		 pci);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*map == MAP_FAILED)
		return -errno;
	memset(*map, 0xa5, len);
	return 0;
}

/*
 * The provider is gone and its window given back while GPU 0 stays bound:
 * p2pmem/allocate must get nothing of it (its pool would map VRAM the GPU
 * still uses). What it mapped, if anything, is left in @p2pmem.
 */
static void expect_window_kept(const struct egpu_info *info, void **p2pmem)
{
	int ret = scribble_p2pmem(info->pci_name, info->vram_size, p2pmem);

	TH_LOG("p2pmem/allocate of the given-back window: %d", ret);
	EXPECT_LT(ret, 0);
}

/*
 * An RDMA READ of the MR after @what: it must fault again and return the
 * data (@seed), never what anyone wrote into the window. Returns what the
 * core counted meanwhile.
 */
static struct p2p_counters expect_read_faults_again(struct rdma *r, void *g,
						    struct ibv_mr *mr,
						    uint64_t seed,
						    const char *what)
{
	struct p2p_counters p0 = p2p_read(NULL), dp;

	memset(r->host, 0, NPAGES * PG);
	EXPECT_EQ(post_status(r, IBV_WR_RDMA_READ, r->host, NPAGES * PG,
			      (uintptr_t)g, mr->rkey), IBV_WC_SUCCESS);
	dp = p2p_delta(&p0, NULL);
	p2p_log(what, &dp);
	EXPECT_GE(dp.v[P2P_WALKS], 1);
	EXPECT_TRUE(check_pages(r->host, NPAGES, seed, 0, what));
	EXPECT_TRUE(check_pages(g, NPAGES, seed, 0, "CPU view"));
	return dp;
}

/* What a test that took the window away set up, undone. */
static void odp_gpu_teardown(struct rdma *r, struct ibv_mr *mr, int fd,
			     void *p2pmem, size_t p2pmem_len)
{
	if (p2pmem != MAP_FAILED)
		EXPECT_EQ(munmap(p2pmem, p2pmem_len), 0);
	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	rdma_teardown(r);
	close(fd);
}

/*
 * The provider goes (its module unloads) while rxe holds aliases in an ODP
 * MR and the device stays bound. The window it gives back stays allocated
 * until the GPU unbinds: p2pmem/allocate cannot hand it out (its pool would
 * map VRAM the GPU still uses). The next RDMA READ must fault again and
 * return the data, never what anyone wrote into the window.
 */
TEST_TIMEOUT(teardown_while_an_odp_mr_holds_aliases, 300)
{
	int fd = egpu_open_or_skip(0), ret;
	struct egpu_info info = egpu_info(fd);
	struct p2p_counters p0, dp;
	struct egpu_counters c;
	struct rdma r = {};
	struct ibv_mr *mr;
	void *g, *p2pmem = MAP_FAILED;
	bool torn = false;

	rxe_p2p_or_skip();
	rdma_setup(&r, NPAGES);
	/* rxe's registration snapshot already takes the aliases. */
	p0 = p2p_read(NULL);
	g = odp_gpu_buffer(&r, fd, NPAGES, 51, &mr);

	/* rxe now holds aliases into the window. */
	post(&r, IBV_WR_RDMA_READ, r.host, NPAGES * PG, (uintptr_t)g, mr->rkey,
	     0, 0);
	dp = p2p_delta(&p0, NULL);
	ASSERT_TRUE(check_pages(r.host, NPAGES, 51, 0, "RDMA READ by P2P"));
	ASSERT_GE(dp.v[P2P_ALIASES], NPAGES);

	ret = egpu_provider(fd, EGPU_PROVIDER_TEARDOWN, 0);
	torn = !ret;
	/* From here on: no ASSERT before GPU 0 is rebound. */
	EXPECT_EQ(ret, 0);
	c = egpu_counters(fd);
	EXPECT_EQ(c.dev_pages_in_use, 0);
	/* The window stays ours until the GPU unbinds: no one gets it. */
	expect_window_kept(&info, &p2pmem);
	expect_read_faults_again(&r, g, mr, 51, "RDMA READ after the teardown");
	odp_gpu_teardown(&r, mr, fd, p2pmem, info.vram_size);
	if (torn) {
		EXPECT_EQ(write_file(SYSFS_EGPU_DRV "/unbind", info.pci_name), 0);
		EXPECT_EQ(write_file(SYSFS_EGPU_DRV "/bind", info.pci_name), 0);
		fd = wait_open(0, 20);
		EXPECT_GE(fd, 0);
		if (fd >= 0)
			EXPECT_EQ(strcmp(egpu_info(fd).provider, info.provider), 0);
	}
}

/* /sys/module/@name/refcnt, or -1. */
static int module_refcount(const char *name)
{
	char path[128];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Run the shell command in environment variable @var; its exit status. */
static int run_env_command(const char *var)
{
	const char *cmd = getenv(var);
	int status;

	if (!cmd || !*cmd)
		return -1;
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * gpu_p2p, the provider of a GPU whose driver knows nothing of hmm-p2p,
 * unloads while rxe holds aliases in an ODP MR. Its windows give up their
 * aliases in place: every mirror is invalidated through the kernel's own
 * notifiers, and the pages stay in the GPU (they are its driver's, which
 * moves them with its own means when the CPU wants them). The window stays
 * allocated until the GPU unbinds. The next RDMA READ faults again (no
 * provider: the page migrates) and returns the data.
 * HMM_P2P_GPU_P2P_UNLOAD and HMM_P2P_GPU_P2P_LOAD are the commands that
 * unload and load gpu_p2p (run-suite's gpu_p2p pass sets them).
 */
TEST_TIMEOUT(gpu_p2p_unload_while_an_odp_mr_holds_aliases, 300)
{
	int fd = egpu_open_or_skip(0), ret, refs0, refs1;
	struct egpu_info info = egpu_info(fd);
	struct egpu_counters c0, c;
	struct p2p_counters p0, dp;
	struct rdma r = {};
	struct ibv_mr *mr;
	void *g, *p2pmem = MAP_FAILED;

	if (strncmp(info.provider, "gpu-", 4) ||
	    !getenv("HMM_P2P_GPU_P2P_UNLOAD") || !getenv("HMM_P2P_GPU_P2P_LOAD"))
		SKIP("GPU 0 is not served by gpu_p2p (run-suite's gpu_p2p pass)");
	rxe_p2p_or_skip();
	rdma_setup(&r, NPAGES);
	p0 = p2p_read(NULL);
	g = odp_gpu_buffer(&r, fd, NPAGES, 53, &mr);
	post(&r, IBV_WR_RDMA_READ, r.host, NPAGES * PG, (uintptr_t)g, mr->rkey,
	     0, 0);
	dp = p2p_delta(&p0, NULL);
	ASSERT_TRUE(check_pages(r.host, NPAGES, 53, 0, "RDMA READ by P2P"));
	ASSERT_GE(dp.v[P2P_ALIASES], NPAGES);

	c0 = egpu_counters(fd);
	refs0 = module_refcount("hmm_p2p");
	ret = run_env_command("HMM_P2P_GPU_P2P_UNLOAD");
	/* From here on: no ASSERT before gpu_p2p is loaded again. */
	EXPECT_EQ(ret, 0);
	c = egpu_counters(fd);
	TH_LOG("after the unload: %llu device pages in use (%llu before), %llu evicted",
	       (unsigned long long)c.dev_pages_in_use,
	       (unsigned long long)c0.dev_pages_in_use,
	       (unsigned long long)(c.migrate_to_ram_evict -
				    c0.migrate_to_ram_evict));
	EXPECT_EQ(c.dev_pages_in_use, c0.dev_pages_in_use);
	EXPECT_EQ(c.migrate_to_ram_fault, c0.migrate_to_ram_fault);
	expect_window_kept(&info, &p2pmem);
	/* gpu_p2p's reference went, each kept window holds one. */
	refs1 = module_refcount("hmm_p2p");
	TH_LOG("hmm_p2p references: %d before the unload, %d after", refs0,
	       refs1);
	EXPECT_GE(refs1, refs0);

	dp = expect_read_faults_again(&r, g, mr, 53, "RDMA READ after the unload");
	EXPECT_EQ(dp.v[P2P_ALIASES], 0);
	odp_gpu_teardown(&r, mr, fd, p2pmem, info.vram_size);
	EXPECT_EQ(run_env_command("HMM_P2P_GPU_P2P_LOAD"), 0);
}

/*
 * 2 MiB-aligned region without THP whose page 0 was never touched and
 * whose pages 1-63 are in the GPU: one RDMA READ over all 64 pages (the
 * consumer's fault covers them at once) aliases the 63 and migrates none.
 * The MR is registered while all 64 are untouched, so its registration
 * snapshot finds nothing and the READ's fault does all the work.
 */
TEST_TIMEOUT(odp_read_next_to_an_untouched_page, 300)
{
	const size_t n = 64, pmd = 2UL << 20;
	int fd = egpu_open_or_skip(0);
	struct egpu_counters c0, c1;
	struct p2p_counters p0, dp;
	struct rdma r = {};
	uint8_t *raw, *buf;
	struct ibv_mr *mr;
	uint64_t moved;
	size_t i;

	rxe_p2p_or_skip();
	rdma_setup(&r, n);
	raw = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(raw != MAP_FAILED);
	buf = (uint8_t *)(((uintptr_t)raw + pmd - 1) & ~(pmd - 1));
	ASSERT_EQ(madvise(buf, pmd, MADV_NOHUGEPAGE), 0);
	mr = ibv_reg_mr(r.pd, buf, n * PG, ODP_ACCESS);
	ASSERT_TRUE(mr);
	fill_pages(buf + PG, n - 1, 52);
	ASSERT_EQ(egpu_migrate(fd, true, buf + PG, (n - 1) * PG, &moved), 0);
	ASSERT_EQ(moved, n - 1);

	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	memset(r.host, 0xff, n * PG);
	post(&r, IBV_WR_RDMA_READ, r.host, n * PG, (uintptr_t)buf, mr->rkey,
	     0, 0);
	dp = p2p_delta(&p0, NULL);
	c1 = egpu_counters(fd);
	p2p_log("RDMA READ", &dp);
	EXPECT_EQ(egpu_to_ram(&c1) - egpu_to_ram(&c0), 0);
	EXPECT_GE(dp.v[P2P_ALIASES], n - 1);
	for (i = 0; i < PG; i++)
		if (((uint8_t *)r.host)[i]) {
			EXPECT_EQ(((uint8_t *)r.host)[i], 0);
			break;
		}
	EXPECT_TRUE(check_pages((uint8_t *)r.host + PG, n - 1, 52, 0,
				"RDMA READ of the GPU pages"));
	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	rdma_teardown(&r);
}

/*
 * A prefetch over [PROT_NONE page][GPU page][RAM page] (present, not yet
 * mirrored) fails (as stock) on its first page. Like the stock walk, which
 * stops at the address that failed, it must leave nothing stored for the
 * pages after it: a value
 * stored there long after the sequence check that licensed it can undo an
 * invalidation that came in between, and rxe trusts a valid slot without
 * faulting (it would read and write a freed page). Seen from rxe: the next
 * RDMA WRITE to the RAM page must fault it, and land.
 */
TEST_TIMEOUT(failed_fault_stores_nothing_past_the_failure, 300)
{
	int fd = egpu_open_or_skip(0), ret;
	struct p2p_counters p0, dp;
	struct rdma r = {};
	struct ibv_mr *mr;
	uint8_t *buf;

	rxe_p2p_or_skip();
	rdma_setup(&r, 1);
	buf = map_pages(3);
	fill_pages(buf, 3, 60);
	ASSERT_EQ(egpu_migrate(fd, true, buf + PG, PG, NULL), 0);
	mr = ibv_reg_mr(r.pd, buf, 3 * PG, ODP_ACCESS);
	ASSERT_TRUE(mr);
	ASSERT_EQ(mprotect(buf, PG, PROT_NONE), 0);
	/*
	 * Registration mirrored every present page; the RAM page must be
	 * present but not mirrored: a new page, written by the CPU after the
	 * invalidation that cleared its slot.
	 */
	ASSERT_EQ(madvise(buf + 2 * PG, PG, MADV_DONTNEED), 0);
	fill_pages(buf + 2 * PG, 1, 62);

	ret = prefetch_write_sync(&r, mr, buf, 3 * PG);
	if (ret == -EOPNOTSUPP && !tap_expect_failed)
		SKIP("%s has no advise_mr on this kernel", RXE_DEV);
	TH_LOG("prefetch over a PROT_NONE page: %s", strerror(-ret));
	EXPECT_EQ(ret, -EFAULT);

	p0 = p2p_read(NULL);
	fill_pages(r.host, 1, 61);
	post(&r, IBV_WR_RDMA_WRITE, r.host, PG, (uintptr_t)(buf + 2 * PG),
	     mr->rkey, 0, 0);
	dp = p2p_delta(&p0, NULL);
	p2p_log("RDMA WRITE after the failed prefetch", &dp);
	EXPECT_GE(dp.v[P2P_WALKS], 1);
	EXPECT_TRUE(check_pages(buf + 2 * PG, 1, 61, 0,
				"CPU view of the RDMA WRITE"));
	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	rdma_teardown(&r);
}

/* A thread that prefetches an MR without faulting, over and over. */
struct snapshot_loop {
	struct rdma *r;
	struct ibv_mr *mr;
	void *buf;
	size_t len;
	volatile int stop;
	unsigned long calls;
	int err;
};

static void *snapshot_loop_run(void *arg)
{
	struct snapshot_loop *l = arg;

	while (!l->stop && !l->err) {
		l->err = prefetch_sync(l->r, l->mr, l->buf, l->len,
				       IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT);
		l->calls++;
	}
	return NULL;
}

/*
 * Review F1 (docs/safety.md): a prefetch without fault
 * (PREFETCH_NO_FAULT) publishes what its walk saw at the start of its
 * pass. A fault on the same MR meanwhile stores fresher answers with no
 * invalidation (faulting a page in raises none), and the snapshot must not
 * clear them: ib_umem_odp, after its own sequence check, finds a slot it
 * faulted not valid (a WARN for each), and rxe fails the access. Another
 * thread takes snapshots of the MR while this one zaps the buffer and
 * prefetches it for writing: every write prefetch succeeds, no WARN.
 */
TEST_TIMEOUT(snapshot_prefetch_never_clears_a_fresher_fault, 300)
{
	struct snapshot_loop l = {};
	struct p2p_counters p0, dp;
	size_t n = 2048, faults = 0;
	int kmsg = open_kmsg(), ret = 0;
	struct rdma r = {};
	struct timespec t0, t;
	pthread_t th;
	uint8_t *buf;

	rxe_p2p_or_skip();
	rdma_setup(&r, 1);
	buf = map_pages(n);
	/* 4 KiB pages: a fault run then stores page by page, slowly. */
	ASSERT_EQ(madvise(buf, n * PG, MADV_NOHUGEPAGE), 0);
	fill_pages(buf, n, 70);
	l.r = &r;
	l.buf = buf;
	l.len = n * PG;
	l.mr = ibv_reg_mr(r.pd, buf, n * PG, ODP_ACCESS);
	ASSERT_TRUE(l.mr);
	ret = prefetch_write_sync(&r, l.mr, buf, n * PG);
	if (ret == -EOPNOTSUPP && !tap_expect_failed)
		SKIP("%s has no advise_mr on this kernel", RXE_DEV);
	ASSERT_EQ(ret, 0);
	p0 = p2p_read(NULL);
	ASSERT_EQ(pthread_create(&th, NULL, snapshot_loop_run, &l), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ASSERT_EQ(madvise(buf, n * PG, MADV_DONTNEED), 0);
		ret = prefetch_write_sync(&r, l.mr, buf, n * PG);
		faults++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!ret && t.tv_sec - t0.tv_sec < 6);
	l.stop = 1;
	pthread_join(th, NULL);
	dp = p2p_delta(&p0, NULL);
	TH_LOG("%zu write prefetches, %lu snapshots", faults, l.calls);
	/* Every call of both threads went through hmm_p2p_range_fault(). */
	EXPECT_GE(dp.v[P2P_WALKS], faults + l.calls);
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(l.err, 0);
	EXPECT_GE(l.calls, 1);
	EXPECT_EQ(count_kmsg(kmsg, "WARNING"), 0);
	EXPECT_EQ(ibv_dereg_mr(l.mr), 0);
	rdma_teardown(&r);
}

/* Every page of @g as the GPU sees it: resident and holding @seed's pattern. */
static void check_vram_pattern(int fd, void *g, size_t n, uint64_t seed,
			       const char *what)
{
	uint8_t *got = malloc(n * PG), res[8];

	ASSERT_TRUE(got != NULL && n <= 64);
	memset(res, 0, sizeof(res));
	EXPECT_EQ(egpu_read_vram(fd, g, n * PG, got, res, NULL), n);
	EXPECT_TRUE(check_pages(got, n, seed, 0, what));
	free(got);
}

/*
 * mprotect(PROT_READ) after rxe took aliases of GPU pages: the protection
 * change invalidates them. An RDMA WRITE, and an edu DMA write, must then
 * fail and never land in the GPU's memory.
 */
TEST_TIMEOUT(write_after_mprotect_read_only_never_lands, 300)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	struct p2p_counters p0, dp;
	uint8_t *out = malloc(2 * PG);
	struct rdma r = {};
	struct ibv_mr *mr;
	int status;
	void *g;

	ASSERT_TRUE(out != NULL);
	rxe_p2p_or_skip();
	rdma_setup(&r, NPAGES);
	p0 = p2p_read(NULL);
	g = odp_gpu_buffer(&r, fd, NPAGES, 54, &mr);
	post(&r, IBV_WR_RDMA_READ, r.host, NPAGES * PG, (uintptr_t)g, mr->rkey,
	     0, 0);
	dp = p2p_delta(&p0, NULL);
	ASSERT_TRUE(check_pages(r.host, NPAGES, 54, 0, "RDMA READ by P2P"));
	ASSERT_GE(dp.v[P2P_ALIASES], NPAGES);

	ASSERT_EQ(mprotect(g, NPAGES * PG, PROT_READ), 0);
	fill_pages(r.host, NPAGES, 55);
	status = post_status(&r, IBV_WR_RDMA_WRITE, r.host, NPAGES * PG,
			     (uintptr_t)g, mr->rkey);
	TH_LOG("RDMA WRITE into the read-only range: %s",
	       status >= 0 ? ibv_wc_status_str(status) : strerror(-status));
	EXPECT_NE(status, IBV_WC_SUCCESS);
	fill_pages(out, 2, 56);
	EXPECT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, g, 2 * PG, out, NULL),
		  -EPERM);
	check_vram_pattern(fd, g, NPAGES, 54, "GPU view after refused writes");
	EXPECT_TRUE(check_pages(g, NPAGES, 54, 0, "CPU view"));
	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	rdma_teardown(&r);
	free(out);
}

/*
 * fork() while rxe holds aliases of GPU pages of a private mapping: the
 * pages become copy-on-write (read-only in both processes), which
 * invalidates the aliases. The parent's RDMA WRITE must reach the
 * parent's copy only; the child keeps the data it had.
 */
TEST_TIMEOUT(fork_while_an_odp_mr_holds_aliases, 300)
{
	int fd = egpu_open_or_skip(0), status, go[2];
	struct rdma r = {};
	struct ibv_mr *mr;
	char c = 0;
	pid_t pid;
	void *g;

	rxe_p2p_or_skip();
	rdma_setup(&r, NPAGES);
	g = odp_gpu_buffer(&r, fd, NPAGES, 57, &mr);
	post(&r, IBV_WR_RDMA_READ, r.host, NPAGES * PG, (uintptr_t)g, mr->rkey,
	     0, 0);
	ASSERT_TRUE(check_pages(r.host, NPAGES, 57, 0, "RDMA READ by P2P"));

	ASSERT_EQ(pipe(go), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* The child waits for the parent's write, then reads its copy. */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(check_pages(g, NPAGES, 57, 0, "child's copy") ? 0 : 1);
	}
	fill_pages(r.host, NPAGES, 58);
	post(&r, IBV_WR_RDMA_WRITE, r.host, NPAGES * PG, (uintptr_t)g,
	     mr->rkey, 0, 0);
	EXPECT_TRUE(check_pages(g, NPAGES, 58, 0, "parent's view"));
	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memset(r.host, 0, NPAGES * PG);
	post(&r, IBV_WR_RDMA_READ, r.host, NPAGES * PG, (uintptr_t)g, mr->rkey,
	     0, 0);
	EXPECT_TRUE(check_pages(r.host, NPAGES, 58, 0, "RDMA READ after fork"));
	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	rdma_teardown(&r);
}

/*
 * munmap() of half of an ODP MR while writes to all of it are queued: each
 * completes or fails, the kernel stays clean; afterwards the mapped half
 * still works (on fresh QPs) and the unmapped half is refused.
 */
TEST_TIMEOUT(munmap_part_of_an_odp_mr_mid_traffic, 300)
{
	struct ibv_send_wr wr = { .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE }, *bad;
	int fd = egpu_open_or_skip(0), i, n, errors = 0;
	const size_t half = NPAGES / 2;
	struct ibv_wc wc[16];
	struct rdma r = {};
	struct ibv_sge sge;
	struct ibv_mr *mr;
	uint8_t *g;

	rxe_p2p_or_skip();
	rdma_setup(&r, NPAGES);
	g = odp_gpu_buffer(&r, fd, NPAGES, 59, &mr);
	fill_pages(r.host, NPAGES, 60);
	sge = (struct ibv_sge){ (uintptr_t)r.host, NPAGES * PG, r.host_mr->lkey };
	wr.sg_list = &sge;
	wr.wr.rdma.remote_addr = (uintptr_t)g;
	wr.wr.rdma.rkey = mr->rkey;
	for (i = 0; i < 8; i++) {
		wr.send_flags = IBV_SEND_SIGNALED;
		ASSERT_EQ(ibv_post_send(r.qa, &wr, &bad), 0);
	}
	ASSERT_EQ(munmap(g + half * PG, half * PG), 0);
	usleep(500000);
	for (n = 0; n < 8;) {
		int got = ibv_poll_cq(r.cq, 16, wc);

		ASSERT_GE(got, 0);
		for (i = 0; i < got; i++)
			errors += wc[i].status != IBV_WC_SUCCESS;
		n += got;
		if (!got)
			usleep(10000);
	}
	TH_LOG("8 writes around the munmap: %d failed", errors);
	/* The mapped half holds the old or the new data, page by page. */
	for (i = 0; i < (int)half; i++)
		EXPECT_TRUE(check_pages(g + i * PG, 1, 59, i, "old") ||
			    check_pages(g + i * PG, 1, 60, i, "new"));
	EXPECT_EQ(ibv_destroy_qp(r.qa), 0);
	EXPECT_EQ(ibv_destroy_qp(r.qb), 0);
	r.qa = create_qp(&r);
	r.qb = create_qp(&r);
	ASSERT_TRUE(r.qa && r.qb);
	ASSERT_EQ(connect_qp(&r, r.qa, r.qb->qp_num), 0);
	ASSERT_EQ(connect_qp(&r, r.qb, r.qa->qp_num), 0);
	memset(r.host, 0, NPAGES * PG);
	EXPECT_EQ(post_status(&r, IBV_WR_RDMA_READ, r.host, half * PG,
			      (uintptr_t)g, mr->rkey), IBV_WC_SUCCESS);
	for (i = 0; i < (int)half; i++)
		EXPECT_TRUE(check_pages(r.host + i * PG, 1, 59, i, "old") ||
			    check_pages(r.host + i * PG, 1, 60, i, "new"));
	EXPECT_NE(post_status(&r, IBV_WR_RDMA_READ, r.host, half * PG,
			      (uintptr_t)g + half * PG, mr->rkey),
		  IBV_WC_SUCCESS);
	ibv_dereg_mr(mr);	/* may fail: its range is half gone */
	munmap(g, half * PG);
}

TAP_MAIN()
