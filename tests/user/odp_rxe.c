// SPDX-License-Identifier: GPL-2.0-only
/*
 * RDMA ODP over device-private memory, with Debian's libibverbs on rdma_rxe
 * (RoCE on lo, the only network it uses).
 *
 * One process, two RC QPs connected to each other: qa is the requester,
 * qb the responder whose ODP memory region covers a buffer migrated into
 * the emulated GPU. Every byte is checked through the GPU's own view of its
 * VRAM (READ_VRAM), and the migration counters say whether pages moved.
 * Needs: modules hmm_p2p, hmm_p2p_egpu, mlx5_odp_p2p devices=rxe, and an
 * rxe device named rxe_lo on lo (tests/vm/run-suite sets them up).
 */
#include <signal.h>
#include <sys/wait.h>

#include <stdatomic.h>

#include "tap.h"
#include "egpu_test.h"
#include "rxe_test.h"

#define NPAGES 8
#define LEN (NPAGES * PG)
/* A buffer in GPU @fd's memory (filled with @seed first), with an ODP MR. */
static void *gpu_buffer(struct rdma *r, int fd, uint64_t seed,
			struct ibv_mr **mr)
{
	return odp_gpu_buffer(r, fd, NPAGES, seed, mr);
}

/* The GPU's own view: every page resident in VRAM and equal to @want. */
static void check_vram(int fd, void *g, const void *want)
{
	uint8_t *got = malloc(LEN), res[(NPAGES + 7) / 8];
	size_t i;

	ASSERT_TRUE(got);
	ASSERT_EQ(egpu_read_vram(fd, g, LEN, got, res, NULL), NPAGES);
	for (i = 0; i < NPAGES; i++)
		ASSERT_TRUE(egpu_bit(res, i));
	ASSERT_TRUE(same_bytes(got, want, LEN, "VRAM"));
	free(got);
}

/* The consumer was loaded with ats=Y. */
static bool consumer_ats(void)
{
	char v = 'N';
	FILE *f = fopen(CONSUMER "ats", "r");

	if (f) {
		if (fscanf(f, " %c", &v) != 1)
			v = 'N';
		fclose(f);
	}
	return v == 'Y';
}

/*
 * WRITE, READ, SEND/RECV and atomics against qb's ODP MR over @g; returns
 * what @g must hold afterwards (the caller frees it).
 */
static uint8_t *traffic(struct rdma *r, struct ibv_mr *mr, void *g, int fd)
{
	/* fd < 0: no VRAM view to check (host memory, or the stock path). */
	uint8_t *want = calloc(1, LEN);
	uint64_t *word = r->host, old;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .sg_list = &sge, .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = { .sg_list = &sge, .num_sge = 1,
				   .opcode = IBV_WR_SEND,
				   .send_flags = IBV_SEND_SIGNALED }, *sbad;

	ASSERT_TRUE(want);
	/* RDMA WRITE: host -> GPU memory. */
	fill_pages(r->host, NPAGES, 0x1111);
	memcpy(want, r->host, LEN);
	post(r, IBV_WR_RDMA_WRITE, r->host, LEN, (uintptr_t)g, mr->rkey, 0, 0);
	if (fd >= 0)
		check_vram(fd, g, want);

	/* RDMA READ: GPU memory -> host. */
	memset(r->host, 0, LEN);
	post(r, IBV_WR_RDMA_READ, r->host, LEN, (uintptr_t)g, mr->rkey, 0, 0);
	ASSERT_TRUE(same_bytes(r->host, want, LEN, "RDMA READ"));

	/* SEND/RECV: qb receives into GPU memory. */
	sge = (struct ibv_sge){ (uintptr_t)g, LEN, mr->lkey };
	ASSERT_EQ(ibv_post_recv(r->qb, &rwr, &rbad), 0);
	fill_pages(r->host, NPAGES, 0x2222);
	memcpy(want, r->host, LEN);
	sge = (struct ibv_sge){ (uintptr_t)r->host, LEN, r->host_mr->lkey };
	ASSERT_EQ(ibv_post_send(r->qa, &swr, &sbad), 0);
	wait_wc(r, 2);
	if (fd >= 0)
		check_vram(fd, g, want);

	/* Atomics on the first word of the last page. */
	old = *(uint64_t *)(want + LEN - PG);
	post(r, IBV_WR_ATOMIC_FETCH_AND_ADD, word, 8, (uintptr_t)g + LEN - PG,
	     mr->rkey, 5, 0);
	ASSERT_EQ(word[0], old);
	post(r, IBV_WR_ATOMIC_CMP_AND_SWP, word, 8, (uintptr_t)g + LEN - PG,
	     mr->rkey, old + 5, 0xfeedfacecafebeefULL);
	ASSERT_EQ(word[0], old + 5);
	*(uint64_t *)(want + LEN - PG) = 0xfeedfacecafebeefULL;
	if (fd >= 0)
		check_vram(fd, g, want);
	return want;
}

static void run_case_on(bool p2p, bool on_gpu, int gpu)
{
	struct rdma r = {};
	struct egpu_counters c0, c1;
	struct p2p_counters p0, d;
	struct ibv_mr *mr;
	uint64_t to_ram;
	uint8_t *want;
	void *g;
	int fd = on_gpu ? egpu_open_or_skip(gpu) : -1;
	int ctl = egpu_open_or_skip(gpu);

	if (p2p && on_gpu && access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	consumer_set("devices", "rxe");
	consumer_set("enable", p2p ? "Y" : "N");
	rdma_setup(&r, NPAGES);
	/* From before registration: its snapshot fault already aliases. */
	c0 = egpu_counters(ctl);
	p0 = p2p_read(NULL);
	g = gpu_buffer(&r, fd, 0x77, &mr);
	want = traffic(&r, mr, g, p2p ? fd : -1);
	c1 = egpu_counters(ctl);
	d = p2p_delta(&p0, NULL);
	to_ram = egpu_to_ram(&c1) - egpu_to_ram(&c0);
	p2p_log("rxe traffic", &d);
	TH_LOG("egpu pages migrated to RAM: %llu", (unsigned long long)to_ram);
	if (on_gpu && p2p) {
		/* P2P: aliases, and not one page left the GPU. */
		EXPECT_GE(d.v[P2P_ALIASES], NPAGES);
		EXPECT_EQ(d.v[P2P_FAULTED], 0);
		EXPECT_EQ(to_ram, 0);
	} else if (on_gpu) {
		/* The stock path migrates every page rxe touched. */
		EXPECT_EQ(d.v[P2P_ALIASES], 0);
		EXPECT_EQ(to_ram, NPAGES);
	} else {
		/* Host memory: nothing for hmm-p2p to do. */
		EXPECT_EQ(d.v[P2P_ALIASES], 0);
		EXPECT_EQ(to_ram, 0);
	}
	/* And the CPU agrees (this migrates GPU pages back to RAM). */
	ASSERT_TRUE(same_bytes(g, want, LEN, "CPU view"));
	free(want);
	ibv_dereg_mr(mr);
	consumer_set("enable", "Y");
}

static void run_case(bool p2p, bool on_gpu)
{
	run_case_on(p2p, on_gpu, 0);
}

/* Device-private buffer, consumer enabled: P2P, zero migrations. */
TEST(odp_rxe_p2p_write_read_send_atomic)
{
	run_case(true, true);
}

/*
 * The same in the second GPU: with both GPUs under one owner (an XGMI
 * hive, hmm_p2p_egpu shared_owner=1), its pages are aliased through its
 * own provider, not the first GPU's.
 */
TEST(odp_rxe_p2p_on_the_second_gpu)
{
	run_case_on(true, true, 1);
}

/* The same with the consumer disabled: the stock path migrates. */
TEST(odp_rxe_stock_path_migrates)
{
	run_case(false, true);
}

/* ODP on plain host memory with the consumer enabled: as without it. */
TEST(odp_rxe_host_memory_unchanged)
{
	run_case(true, false);
}

/*
 * A child keeps RDMA WRITE + READ traffic going on GPU memory and checks
 * every byte; meanwhile the parent disables and re-enables the consumer,
 * unloads and reloads it, and finally the child's process exit (SIGKILL)
 * tears everything down mid-flight.
 */
/* Did *@rounds grow within 20 s (the child's traffic keeps moving)? */
static bool traffic_moves(atomic_ulong *rounds)
{
	unsigned long r0 = atomic_load(rounds);
	int i;

	for (i = 0; i < 200; i++) {
		if (atomic_load(rounds) > r0 + 1)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * rmmod of the consumer: "in use" while one of its replacements runs (an
 * ODP fault of the traffic) is the answer to take again, a moment later.
 */
static int rmmod_consumer(void)
{
	int i, ret = -1;

	for (i = 0; i < 100 && ret; i++) {
		ret = system("rmmod mlx5_odp_p2p 2>/dev/null");
		if (ret)
			usleep(50000);
	}
	return ret;
}

TEST_TIMEOUT(odp_rxe_toggle_unload_and_exit_mid_traffic, 300)
{
	int fd = egpu_open_or_skip(0);
	struct p2p_counters p0, dp;
	atomic_ulong *rounds;
	bool ats_y;
	pid_t pid;
	int status, i;

	if (access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	odp_or_skip();
	ats_y = consumer_ats();
	consumer_set("devices", "rxe");
	consumer_set("enable", "Y");
	/* Rounds of verified traffic, counted by the child. */
	rounds = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(rounds != MAP_FAILED);
	atomic_store(rounds, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct rdma r = {};
		struct ibv_mr *mr;
		uint64_t seed;
		void *g;

		/* The GPU serves the process that opened it: open our own. */
		close(fd);
		fd = egpu_open(0);
		rdma_setup(&r, NPAGES);
		g = gpu_buffer(&r, fd, 0x99, &mr);
		for (seed = 1;; seed++) {
			fill_pages(r.host, NPAGES, seed);
			post(&r, IBV_WR_RDMA_WRITE, r.host, LEN, (uintptr_t)g,
			     mr->rkey, 0, 0);
			memset(r.host, 0, LEN);
			post(&r, IBV_WR_RDMA_READ, r.host, LEN, (uintptr_t)g,
			     mr->rkey, 0, 0);
			if (!check_pages(r.host, NPAGES, seed, 0, "loop"))
				_exit(3);
			atomic_fetch_add(rounds, 1);
			if (!(seed % 4))
				egpu_migrate(fd, true, g, LEN, NULL);
		}
	}
	ASSERT_TRUE(traffic_moves(rounds));
	for (i = 0; i < 6; i++) {
		usleep(300000);
		consumer_set("enable", i % 2 ? "Y" : "N");
		ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
		EXPECT_TRUE(traffic_moves(rounds));
	}
	consumer_set("enable", "Y");
	/* Unload with MRs holding aliases and traffic running, then reload. */
	ASSERT_EQ(rmmod_consumer(), 0);
	EXPECT_TRUE(traffic_moves(rounds));
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
	/* With the load-time parameter it had (the suite also runs ats=Y). */
	ASSERT_EQ(system(ats_y ? "modprobe mlx5_odp_p2p devices=rxe ats=Y" :
			 "modprobe mlx5_odp_p2p devices=rxe"), 0);
	/* P2P again: the traffic moves the pages back to VRAM every 4 rounds. */
	p0 = p2p_read(NULL);
	EXPECT_TRUE(traffic_moves(rounds));
	EXPECT_TRUE(traffic_moves(rounds));
	dp = p2p_delta(&p0, NULL);
	p2p_log("after the reload", &dp);
	EXPECT_GT(dp.v[P2P_ALIASES], 0);
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
}

/*
 * Deregister the memory region while operations on it are still queued:
 * the posts may fail or complete in error, the kernel must stay clean.
 */
TEST(odp_rxe_dereg_mid_traffic)
{
	struct ibv_send_wr wr = { .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE }, *bad;
	int fd = egpu_open_or_skip(0);
	struct rdma r = {};
	struct ibv_sge sge;
	struct ibv_wc wc[16];
	struct ibv_mr *mr;
	void *g;
	int i;

	if (access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	consumer_set("devices", "rxe");
	consumer_set("enable", "Y");
	rdma_setup(&r, NPAGES);
	g = gpu_buffer(&r, fd, 0x55, &mr);
	fill_pages(r.host, NPAGES, 0x66);
	sge = (struct ibv_sge){ (uintptr_t)r.host, LEN, r.host_mr->lkey };
	wr.sg_list = &sge;
	wr.wr.rdma.remote_addr = (uintptr_t)g;
	wr.wr.rdma.rkey = mr->rkey;
	for (i = 0; i < 8; i++) {
		wr.send_flags = i == 7 ? IBV_SEND_SIGNALED : 0;
		ASSERT_EQ(ibv_post_send(r.qa, &wr, &bad), 0);
	}
	ibv_dereg_mr(mr);	/* may fail with EBUSY: either is fine */
	usleep(500000);
	ibv_poll_cq(r.cq, 16, wc);	/* success or remote access error */
	ASSERT_EQ(ibv_destroy_qp(r.qa), 0);
	ASSERT_EQ(ibv_destroy_qp(r.qb), 0);
	/* The buffer is intact or holds the written pattern, page by page. */
	for (i = 0; i < NPAGES; i++)
		ASSERT_TRUE(check_pages((uint8_t *)g + i * PG, 1, 0x55, i, "old") ||
			    check_pages((uint8_t *)g + i * PG, 1, 0x66, i, "new"));
}

TAP_MAIN()
