// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_range_fault() seen from a DMA client (an edu device): system RAM,
 * device-private pages with a reachable and an unreachable client, mixed
 * ranges with holes and read-only mappings, refused aliases, CPU faults on
 * device memory, and a pagemap destroyed and created again at run time (the
 * GPU laid out as xe's). Every byte moved is checked; every claim about P2P
 * or migration is checked against the hmm-p2p and egpu counters (deltas).
 *
 * Needs: hmm_p2p and hmm_p2p_egpu loaded, /dev/hmm_p2p_egpu0 (and 1 for
 * the mixed test), edu clients on both sides of the PCIe switch.
 */
#include "egpu_test.h"

#define N 4	/* pages per DMA: each page costs two ~100 ms edu commands */

/* 1. System RAM only: what hmm_range_fault() would do, no alias. */
TEST(dma_system_ram)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(N), *out = malloc(N * PG);
	struct egpu_counters c0 = egpu_counters(fd), c1;
	struct egpu_edu_dma d;
	struct p2p_counters p0, dp;

	ASSERT_TRUE(out != NULL);
	fill_pages(buf, N, 1);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	p2p_log("read", &dp);
	EXPECT_EQ(d.pages, N);
	EXPECT_EQ(d.p2p_pages, 0);
	EXPECT_TRUE(same_bytes(out, buf, N * PG, "DMA read of RAM"));
	EXPECT_GE(dp.v[P2P_WALKS], 1);
	EXPECT_EQ(dp.v[P2P_ALIASES], 0);
	EXPECT_EQ(dp.v[P2P_FAULTED], 0);
	EXPECT_EQ(dp.v[P2P_UNREACHABLE] + dp.v[P2P_REFUSED], 0);

	/* The other direction, and into never-touched (pte_none) pages. */
	fill_pages(out, N, 2);
	ASSERT_EQ(munmap(buf, N * PG), 0);
	buf = map_pages(N);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, 0);
	EXPECT_TRUE(check_pages(buf, N, 2, 0, "CPU view after DMA write"));

	/* Untouched pages read as zero, as after any fault. */
	ASSERT_EQ(munmap(buf, N * PG), 0);
	buf = map_pages(N);
	memset(out, 0xff, N * PG);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, NULL), 0);
	{
		static const uint8_t zero[N * PG];

		EXPECT_TRUE(same_bytes(out, zero, N * PG, "read of fresh pages"));
	}
	c1 = egpu_counters(fd);
	EXPECT_EQ(egpu_to_ram(&c1), egpu_to_ram(&c0));
	EXPECT_EQ(c1.migrate_to_dev, c0.migrate_to_dev);
}

/* 2. Device-private pages, reachable client: all P2P, nothing migrates. */
TEST(dma_device_private_reachable)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	struct egpu_info info = egpu_info(fd);
	uint8_t *buf = map_pages(N), *out = malloc(N * PG), *vram = malloc(N * PG);
	struct egpu_counters c0, c1;
	struct p2p_counters p0, pp0, dp, dpp;
	struct egpu_edu_dma d;
	uint8_t resident[1];
	uint64_t moved;

	ASSERT_TRUE(out && vram);
	fill_pages(buf, N, 3);
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, &moved), 0);
	ASSERT_EQ(moved, N);

	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	pp0 = p2p_read(info.provider);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.pages, N);
	EXPECT_EQ(d.p2p_pages, N);
	fill_pages(vram, N, 3);
	EXPECT_TRUE(same_bytes(out, vram, N * PG, "P2P DMA read"));

	/* Write new data by P2P; the GPU must see it in its VRAM. */
	fill_pages(out, N, 4);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, N);
	resident[0] = 0;
	ASSERT_EQ(egpu_read_vram(fd, buf, N * PG, vram, resident, NULL), N);
	EXPECT_EQ(resident[0], (1 << N) - 1);
	EXPECT_TRUE(check_pages(vram, N, 4, 0, "GPU view after P2P write"));

	dp = p2p_delta(&p0, NULL);
	dpp = p2p_delta(&pp0, info.provider);
	c1 = egpu_counters(fd);
	p2p_log("total", &dp);
	EXPECT_EQ(dp.v[P2P_ALIASES], 2 * N);
	EXPECT_EQ(dpp.v[P2P_ALIASES], 2 * N);
	EXPECT_EQ(dp.v[P2P_FAULTED], 0);
	EXPECT_EQ(dp.v[P2P_UNREACHABLE] + dp.v[P2P_REFUSED], 0);
	EXPECT_EQ(egpu_to_ram(&c1), egpu_to_ram(&c0));
	EXPECT_EQ(c1.dma_p2p_pages - c0.dma_p2p_pages, 2 * N);

	/* Finally the CPU: migrate_to_ram brings the written data. */
	EXPECT_TRUE(check_pages(buf, N, 4, 0, "CPU view after P2P write"));
	c1 = egpu_counters(fd);
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, N);
}

/* 3. Unreachable client: every page falls back to migration. */
TEST(dma_device_private_unreachable)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, false);
	uint8_t *buf = map_pages(N), *out = malloc(N * PG);
	struct egpu_counters c0, c1;
	struct p2p_counters p0, dp;
	struct egpu_edu_dma d;
	uint8_t resident[1];
	uint64_t moved;

	ASSERT_TRUE(out != NULL);
	fill_pages(buf, N, 5);
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, &moved), 0);
	ASSERT_EQ(moved, N);

	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	c1 = egpu_counters(fd);
	p2p_log("read", &dp);
	TH_LOG("retries %" PRIu64, (uint64_t)d.retries);
	EXPECT_EQ(d.pages, N);
	EXPECT_EQ(d.p2p_pages, 0);
	EXPECT_TRUE(check_pages(out, N, 5, 0, "DMA read after fallback"));
	/*
	 * The counters count decisions per walk: a walk retried (-EBUSY)
	 * before every page came back re-decides the pages still in VRAM.
	 * Each page migrates exactly once.
	 */
	EXPECT_GE(dp.v[P2P_UNREACHABLE], N);
	EXPECT_EQ(dp.v[P2P_FAULTED], dp.v[P2P_UNREACHABLE]);
	EXPECT_EQ(dp.v[P2P_ALIASES], 0);
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, N);
	EXPECT_EQ(egpu_read_vram(fd, buf, N * PG, out, resident, NULL), 0);

	/* Write: back to the device, then an unreachable DMA write. */
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, &moved), 0);
	ASSERT_EQ(moved, N);
	fill_pages(out, N, 6);
	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, N * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	c1 = egpu_counters(fd);
	EXPECT_GE(dp.v[P2P_UNREACHABLE], N);
	EXPECT_EQ(dp.v[P2P_FAULTED], dp.v[P2P_UNREACHABLE]);
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, N);
	/* Already in RAM: the CPU reads without another migration. */
	EXPECT_TRUE(check_pages(buf, N, 6, 0, "CPU view after DMA write"));
	EXPECT_EQ(egpu_counters(fd).migrate_to_ram_fault, c1.migrate_to_ram_fault);
}

/*
 * 4. Mixed ranges. Layout (pages): 0-1 RAM, 2-3 GPU0, 4-5 GPU1, 6 a hole
 * that the cases below create in different ways.
 */
#define MIX 7

static void mixed_setup(int fd0, int fd1, uint8_t *buf, uint64_t seed)
{
	uint64_t moved;

	fill_pages(buf, MIX - 1, seed);
	ASSERT_EQ(egpu_migrate(fd0, true, buf + 2 * PG, 2 * PG, &moved), 0);
	ASSERT_EQ(moved, 2);
	ASSERT_EQ(egpu_migrate(fd1, true, buf + 4 * PG, 2 * PG, &moved), 0);
	ASSERT_EQ(moved, 2);
}

TEST(dma_mixed_ranges)
{
	int fd0 = egpu_open_or_skip(0), fd1 = egpu_open_or_skip(1);
	unsigned int reach = egpu_client(fd0, true);
	unsigned int unreach = egpu_client(fd0, false);
	uint8_t *buf = map_pages(MIX), *out = malloc(MIX * PG);
	uint8_t *vram = malloc(2 * PG), resident[1];
	struct p2p_counters p0, dp;
	struct egpu_edu_dma d;

	ASSERT_TRUE(out && vram);
	/* The GPUs must reach the client the same way for this layout. */
	ASSERT_EQ(egpu_client(fd1, true), reach);

	mixed_setup(fd0, fd1, buf, 7);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd0, reach, EGPU_DMA_READ, buf, 6 * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	p2p_log("mixed read", &dp);
	EXPECT_EQ(d.pages, 6);
	EXPECT_EQ(d.p2p_pages, 4);
	EXPECT_EQ(dp.v[P2P_ALIASES], 4);
	EXPECT_EQ(dp.v[P2P_FAULTED], 0);
	EXPECT_TRUE(check_pages(out, 6, 7, 0, "mixed P2P read"));

	/* Write through both GPUs' BARs and RAM at once. */
	fill_pages(out, 6, 8);
	ASSERT_EQ(egpu_dma(fd1, reach, EGPU_DMA_WRITE, buf, 6 * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, 4);
	ASSERT_EQ(egpu_read_vram(fd0, buf + 2 * PG, 2 * PG, vram, resident, NULL), 2);
	EXPECT_TRUE(check_pages(vram, 2, 8, 2, "GPU0 view of mixed write"));
	ASSERT_EQ(egpu_read_vram(fd1, buf + 4 * PG, 2 * PG, vram, resident, NULL), 2);
	EXPECT_TRUE(check_pages(vram, 2, 8, 4, "GPU1 view of mixed write"));
	EXPECT_TRUE(check_pages(buf, 2, 8, 0, "RAM part of mixed write"));

	/* A hole: no VMA at page 6. The range up to it works. */
	ASSERT_EQ(munmap(buf + 6 * PG, PG), 0);
	ASSERT_EQ(egpu_dma(fd0, reach, EGPU_DMA_READ, buf, 6 * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, 4);
	EXPECT_TRUE(check_pages(out, 6, 8, 0, "the range up to the hole"));
	EXPECT_EQ(egpu_dma(fd0, reach, EGPU_DMA_READ, buf, MIX * PG, out, NULL),
		  -EFAULT);
	EXPECT_EQ(egpu_dma(fd0, reach, EGPU_DMA_READ, buf + 6 * PG, PG, out, NULL),
		  -EFAULT);

	/* A PROT_NONE page: hmm refuses to fault it. */
	ASSERT_TRUE(mmap(buf + 6 * PG, PG, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    MAP_FAILED);
	{
		int ret = egpu_dma(fd0, reach, EGPU_DMA_READ, buf + 4 * PG,
				   3 * PG, out, NULL);

		EXPECT_TRUE(ret == -EFAULT || ret == -EPERM);
	}

	/* Unreachable client on the same mixed range: all 4 migrate. */
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd0, unreach, EGPU_DMA_READ, buf, 6 * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	EXPECT_EQ(d.p2p_pages, 0);
	/* Per walk, as above: at least the 4 device pages, each faulted. */
	EXPECT_GE(dp.v[P2P_UNREACHABLE], 4);
	EXPECT_EQ(dp.v[P2P_FAULTED], dp.v[P2P_UNREACHABLE]);
	EXPECT_TRUE(check_pages(out, 6, 8, 0, "mixed read, unreachable"));
}

TEST(dma_read_only_mapping)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(2), *out = malloc(2 * PG);
	struct egpu_edu_dma d;
	uint64_t moved;

	ASSERT_TRUE(out != NULL);
	fill_pages(buf, 2, 9);
	ASSERT_EQ(mprotect(buf, 2 * PG, PROT_READ), 0);

	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, 2 * PG, out, &d), 0);
	EXPECT_TRUE(check_pages(out, 2, 9, 0, "read of read-only RAM"));
	fill_pages(out, 2, 10);
	EXPECT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, 2 * PG, out, NULL),
		  -EPERM);
	EXPECT_TRUE(check_pages(buf, 2, 9, 0, "read-only RAM after refused write"));

	/* Read-only device-private pages: readable by P2P, not writable. */
	ASSERT_EQ(egpu_migrate(fd, true, buf, 2 * PG, &moved), 0);
	ASSERT_EQ(moved, 2);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, 2 * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, 2);
	EXPECT_TRUE(check_pages(out, 2, 9, 0, "P2P read of read-only pages"));
	fill_pages(out, 2, 10);
	EXPECT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, 2 * PG, out, NULL),
		  -EPERM);
	EXPECT_TRUE(check_pages(buf, 2, 9, 0, "read-only pages after refused write"));
}

/* 5. A provider that refuses some pages: those fall back, the rest alias. */
#define RN 8

static unsigned int refused_for(const uint64_t *dev_pages, unsigned int modulo)
{
	unsigned int i, n = 0;

	for (i = 0; i < RN; i++)
		n += dev_pages[i] % modulo == 0;
	return n;
}

TEST(dma_refused_pages)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(RN), *out = malloc(RN * PG), resident[1];
	uint64_t dev_pages[RN], moved;
	struct egpu_refuse r = { 0, 0 };
	unsigned int refused = 0;
	struct egpu_counters c0, c1;
	struct p2p_counters p0, dp;
	struct egpu_edu_dma d;

	ASSERT_TRUE(out != NULL);
	fill_pages(buf, RN, 11);
	ASSERT_EQ(egpu_migrate(fd, true, buf, RN * PG, &moved), 0);
	ASSERT_EQ(moved, RN);
	ASSERT_EQ(egpu_read_vram(fd, buf, RN * PG, out, resident, dev_pages), RN);
	/* A modulo that refuses some pages but not all of them. */
	for (r.modulo = 2; r.modulo < 9; r.modulo++) {
		refused = refused_for(dev_pages, r.modulo);
		if (refused && refused < RN)
			break;
	}
	ASSERT_LT(r.modulo, 9);
	TH_LOG("modulo %u refuses %u of %d pages", r.modulo, refused, RN);
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &r), 0);

	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, RN * PG, out, &d), 0);
	dp = p2p_delta(&p0, NULL);
	c1 = egpu_counters(fd);
	p2p_log("read", &dp);
	TH_LOG("retries %" PRIu64, (uint64_t)d.retries);
	EXPECT_EQ(d.pages, RN);
	EXPECT_EQ(d.p2p_pages, RN - refused);
	/*
	 * The counters count decisions per walk. Refused pages are not
	 * adjacent, and each fault invalidates the walk (-EBUSY, retry), so
	 * one walk per refused page: every walk re-decides the pages left.
	 */
	EXPECT_GE(dp.v[P2P_REFUSED], refused);
	EXPECT_EQ(dp.v[P2P_FAULTED], dp.v[P2P_REFUSED]);
	EXPECT_GE(dp.v[P2P_ALIASES], RN - refused);
	EXPECT_EQ(dp.v[P2P_UNREACHABLE], 0);
	EXPECT_EQ(dp.v[P2P_WALKS], d.retries + 1);
	/* ... but each refused page migrated exactly once. */
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, refused);
	EXPECT_GE(c1.alias_refused - c0.alias_refused, refused);
	EXPECT_TRUE(check_pages(out, RN, 11, 0, "read with refused pages"));
	EXPECT_EQ(egpu_read_vram(fd, buf, RN * PG, out, resident, NULL),
		  RN - refused);

	/* Write: aliased pages get it in VRAM, the others in RAM. */
	fill_pages(out, RN, 12);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, RN * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, RN - refused);
	r.modulo = 0;
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &r), 0);
	EXPECT_TRUE(check_pages(buf, RN, 12, 0, "CPU view after write"));
}

/* 9. CPU faults on device memory go through migrate_to_ram. */
TEST(cpu_fault_migrate_to_ram)
{
	int fd = egpu_open_or_skip(0);
	uint8_t *buf = map_pages(8), *vram = malloc(8 * PG), resident[1];
	struct egpu_counters c0, c1;
	uint64_t moved, *w;
	size_t i;

	ASSERT_TRUE(vram != NULL);
	fill_pages(buf, 8, 13);
	ASSERT_EQ(egpu_migrate(fd, true, buf, 8 * PG, &moved), 0);
	ASSERT_EQ(moved, 8);
	ASSERT_EQ(egpu_read_vram(fd, buf, 8 * PG, vram, resident, NULL), 8);
	EXPECT_TRUE(check_pages(vram, 8, 13, 0, "VRAM after migration"));

	c0 = egpu_counters(fd);
	EXPECT_TRUE(check_pages(buf, 8, 13, 0, "CPU read of device memory"));
	c1 = egpu_counters(fd);
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, 8);
	EXPECT_EQ(c1.dev_pages_in_use, c0.dev_pages_in_use - 8);
	EXPECT_EQ(egpu_read_vram(fd, buf, 8 * PG, vram, resident, NULL), 0);

	/* The GPU writes, the CPU reads; then a CPU write faults too. */
	ASSERT_EQ(egpu_touch(fd, buf, 8 * PG, 0x1234000000000000ULL,
			     EGPU_TOUCH_ADD_INDEX), 0);
	c0 = egpu_counters(fd);
	w = (uint64_t *)buf;
	for (i = 0; i < 8 * PG / 8; i++)
		if (w[i] != 0x1234000000000000ULL + i / (PG / 8)) {
			EXPECT_EQ(w[i], 0x1234000000000000ULL + i / (PG / 8));
			break;
		}
	c1 = egpu_counters(fd);
	EXPECT_EQ(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault, 8);

	ASSERT_EQ(egpu_migrate(fd, true, buf, 8 * PG, &moved), 0);
	ASSERT_EQ(moved, 8);
	fill_pages(buf, 8, 14);	/* write faults */
	EXPECT_TRUE(check_pages(buf, 8, 14, 0, "CPU write to device memory"));
	EXPECT_EQ(egpu_read_vram(fd, buf, 8 * PG, vram, resident, NULL), 0);

	/* Explicit migration back is counted apart from faults. */
	ASSERT_EQ(egpu_migrate(fd, true, buf, 8 * PG, &moved), 0);
	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_migrate(fd, false, buf, 8 * PG, &moved), 0);
	EXPECT_EQ(moved, 8);
	c1 = egpu_counters(fd);
	EXPECT_EQ(c1.migrate_to_ram_ioctl - c0.migrate_to_ram_ioctl, 8);
	EXPECT_EQ(c1.migrate_to_ram_fault, c0.migrate_to_ram_fault);
	EXPECT_TRUE(check_pages(buf, 8, 14, 0, "after MIGRATE_TO_RAM"));
}

/* Is module parameter @mod.@param "Y"? */
static bool param_is_y(const char *mod, const char *param)
{
	char path[128], v[4] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod,
		 param);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(v, sizeof(v), f))
		v[0] = 0;
	fclose(f);
	return v[0] == 'Y';
}

/*
 * 8. xe destroys a pagemap at run time (its shrinker) and creates a new one
 * on the next use. The GPU laid out as xe's (hmm_p2p_egpu xe_like=1, served
 * by gpu_p2p) does the same: P2P before, the pages back in RAM with their
 * data, then gpu_p2p serves the new pagemap and P2P works again.
 */
TEST(xe_pagemap_destroyed_and_created_again)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	struct egpu_info info = egpu_info(fd);
	uint8_t *buf = map_pages(N), *out = malloc(N * PG);
	struct p2p_counters pp0, dpp;
	struct egpu_edu_dma d;
	char dir[160];
	uint64_t moved;
	int i;

	if (!param_is_y("hmm_p2p_egpu", "xe_like"))
		SKIP("the emulated GPU is not laid out as xe's (run-suite's xe pass)");
	ASSERT_TRUE(out);
	snprintf(dir, sizeof(dir), "/sys/kernel/hmm_p2p/providers/%s",
		 info.provider);
	fill_pages(buf, N, 5);
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, &moved), 0);
	ASSERT_EQ(moved, N);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, N);
	EXPECT_TRUE(check_pages(out, N, 5, 0, "P2P DMA read, first pagemap"));

	ASSERT_EQ(egpu_provider(fd, EGPU_PROVIDER_RECREATE, 0), 0);
	EXPECT_TRUE(check_pages(buf, N, 5, 0, "CPU view after the pagemap went"));
	/* gpu_p2p finds the new pagemap at its next scan (scan_ms). */
	for (i = 0; i < 50 && access(dir, F_OK); i++)
		usleep(100000);
	ASSERT_EQ(access(dir, F_OK), 0);

	fill_pages(buf, N, 6);
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, &moved), 0);
	ASSERT_EQ(moved, N);
	pp0 = p2p_read(info.provider);
	ASSERT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.p2p_pages, N);
	EXPECT_TRUE(check_pages(out, N, 6, 0, "P2P DMA read, new pagemap"));
	dpp = p2p_delta(&pp0, info.provider);
	EXPECT_EQ(dpp.v[P2P_ALIASES], N);
	EXPECT_TRUE(check_pages(buf, N, 6, 0, "CPU view, new pagemap"));
}

TAP_MAIN()
