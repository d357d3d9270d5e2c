// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fault path's contract (docs/safety.md), seen from a client of the
 * emulated GPU:
 *  - a device-private pfn never reaches a client, declared or not;
 *  - an aliasable page is aliased whatever sits next to it;
 *  - a client gets an alias only if it can map it: a DMA client must be a
 *    PCI device that reaches the provider's BAR, and the alias must be in
 *    that BAR;
 *  - a provider change never waits for a fault, and a fault that blocks
 *    (an unanswered userfaultfd) blocks nothing else;
 *  - the unlocked variant keeps the kernel's lock-drop semantics
 *    (userfaultfd) and ends on a fatal signal.
 * Every byte is checked through the CPU or the GPU's own view.
 *
 * Needs: hmm_p2p and hmm_p2p_egpu loaded; GPU 0 (GPU 1 for the tests that
 * need two providers), edu clients. The unbind test unbinds GPU 1.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

#include "egpu_test.h"

#define N 4

static uint64_t to_ram_since(int fd, const struct egpu_counters *c0)
{
	struct egpu_counters c1 = egpu_counters(fd);

	return egpu_to_ram(&c1) - egpu_to_ram(c0);
}

/* @n pages filled with @seed, migrated into GPU @fd. */
static uint8_t *gpu_pages(int fd, size_t n, uint64_t seed)
{
	uint8_t *buf = map_pages(n);
	uint64_t moved;

	fill_pages(buf, n, seed);
	ASSERT_EQ(egpu_migrate(fd, true, buf, n * PG, &moved), 0);
	ASSERT_EQ(moved, n);
	return buf;
}

/* The kernel has the lock-dropping fault hmm_p2p's unlocked variant uses. */
static bool kernel_drops_mmap_lock(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512];
	bool found = false;

	ASSERT_TRUE(f != NULL);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " hmm_range_fault_unlocked_timeout\n");
	fclose(f);
	return found;
}

/* ---- 1. no device-private pfn for a client ------------------------------- */

/*
 * The provider withdraws its pagemap (as xe destroys one, or before it
 * declared it): its pages are still device-private pages of a registered
 * owner. They must be migrated like any page that cannot be aliased, for
 * every kind of client, never handed out as they are.
 */
TEST(undeclared_pagemap_never_reaches_a_client)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct egpu_info info = egpu_info(fd);
	struct p2p_counters p0, pp0, dp, dpp;
	uint8_t *buf, *out = malloc(N * PG);
	struct egpu_counters c0;
	struct egpu_edu_dma d;
	struct egpu_fault f;

	ASSERT_TRUE(out != NULL);
	buf = gpu_pages(fd, N, 41);
	ASSERT_EQ(egpu_provider(fd, EGPU_PROVIDER_WITHDRAW, 0), 0);
	EXPECT_EQ(egpu_provider(fd, EGPU_PROVIDER_WITHDRAW, 0), -EALREADY);

	/* A DMA client that could reach the BAR. */
	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	pp0 = p2p_read(info.provider);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, 0, buf, N * PG,
			     &f), 0);
	dp = p2p_delta(&p0, NULL);
	dpp = p2p_delta(&pp0, info.provider);
	p2p_log("undeclared, edu", &dp);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_EQ(f.aliases, 0);
	EXPECT_EQ(to_ram_since(fd, &c0), N);
	EXPECT_EQ(dp.v[P2P_ALIASES], 0);
	EXPECT_GE(dp.v[P2P_UNDECLARED], N);
	EXPECT_GE(dpp.v[P2P_UNDECLARED], N);
	EXPECT_TRUE(check_pages(buf, N, 41, 0, "CPU view after the fault"));

	/* The same pages in the GPU again: a CPU client (like rxe). */
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, NULL), 0);
	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_CPU, 0, EGPU_FAULT_WRITE,
			     buf, N * PG, &f), 0);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_EQ(f.aliases, 0);
	EXPECT_EQ(to_ram_since(fd, &c0), N);

	/* And real DMA over them: every byte right, nothing P2P. */
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, NULL), 0);
	ASSERT_EQ(egpu_dma(fd, reach, EGPU_DMA_READ, buf, N * PG, out, &d), 0);
	EXPECT_EQ(d.pages, N);
	EXPECT_EQ(d.p2p_pages, 0);
	EXPECT_TRUE(check_pages(out, N, 41, 0, "DMA read of undeclared pages"));

	/* Declared again, the same pages are aliased: it was the declaration. */
	ASSERT_EQ(egpu_provider(fd, EGPU_PROVIDER_DECLARE, 0), 0);
	ASSERT_EQ(egpu_migrate(fd, true, buf, N * PG, NULL), 0);
	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, 0, buf, N * PG,
			     &f), 0);
	EXPECT_EQ(f.aliases, N);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_EQ(to_ram_since(fd, &c0), 0);
	free(out);
}

/*
 * The caller's array is a consumer's live mirror: a slot it maps stays
 * valid until an invalidation clears it (ib_umem_odp; mlx5 zaps only valid
 * slots). A write request that cannot be aliased (read-only device PTE)
 * and then fails must leave the alias slot as it was, so that the
 * invalidation of the page finds and tears down that mapping.
 */
TEST(failed_write_fault_keeps_the_alias_mapped)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct egpu_fault f;
	uint64_t zaps0;
	uint8_t *buf;

	buf = gpu_pages(fd, N, 49);
	ASSERT_EQ(mprotect(buf, N * PG, PROT_READ), 0);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, EGPU_FAULT_KEEP,
			     buf, N * PG, &f), 0);
	ASSERT_EQ(f.aliases, N);
	zaps0 = f.zaps;

	EXPECT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_WRITE, buf, N * PG,
			     &f), -EPERM);
	TH_LOG("after the refused write: valid %" PRIu64 " aliases %" PRIu64,
	       (uint64_t)f.valid, (uint64_t)f.aliases);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.aliases, N);
	EXPECT_EQ(f.device_private, 0);

	/* The CPU reads: migrate_to_ram invalidates, the mirror is torn down. */
	EXPECT_TRUE(check_pages(buf, N, 49, 0, "CPU view"));
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT, buf,
			     N * PG, &f), 0);
	EXPECT_EQ(f.zaps - zaps0, N);
	EXPECT_EQ(f.aliases, 0);
}

/*
 * A provider withdraws a pagemap while a consumer maps aliases of it: a
 * walk without a fault request must not turn those slots not valid (stock
 * would call a foreign device-private page "not valid"). The aliases stay
 * valid until the pages leave device memory, and that invalidation finds
 * them.
 */
TEST(withdrawn_pagemap_keeps_mapped_aliases_until_invalidated)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct egpu_fault f;
	uint64_t zaps0;
	uint8_t *buf;

	buf = gpu_pages(fd, N, 50);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, EGPU_FAULT_KEEP,
			     buf, N * PG, &f), 0);
	ASSERT_EQ(f.aliases, N);
	zaps0 = f.zaps;
	ASSERT_EQ(egpu_provider(fd, EGPU_PROVIDER_WITHDRAW, 0), 0);

	EXPECT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT, buf,
			     N * PG, &f), 0);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.aliases, N);
	EXPECT_EQ(f.device_private, 0);

	EXPECT_TRUE(check_pages(buf, N, 50, 0, "CPU view"));
	EXPECT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT, buf,
			     N * PG, &f), 0);
	EXPECT_EQ(f.zaps - zaps0, N);
	EXPECT_EQ(egpu_provider(fd, EGPU_PROVIDER_DECLARE, 0), 0);
}

/*
 * A valid slot the device never mapped (a store that raced an invalidation,
 * hmm's own or a consumer's) is repaired by the next walk, as without
 * hmm-p2p: only a slot the device mapped (HMM_PFN_DMA_MAPPED, cleared by
 * every invalidation) is kept by a walk without a fault request. The range
 * is never touched, so every answer is "not valid".
 */
TEST(stale_valid_slot_is_repaired_by_the_next_walk)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	uint8_t *buf = map_pages(N);
	struct egpu_fault f;

	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT |
			     EGPU_FAULT_PLANT_STALE, buf, N * PG, &f), 0);
	EXPECT_EQ(f.valid, 0);
	EXPECT_EQ(f.device_private, 0);
}

/*
 * A stale valid slot that lands in the middle of a walk, after hmm-p2p
 * copied the caller's slots (a walker delayed across an invalidation
 * stores it), is repaired too: the walk's "not valid" answer for it cannot
 * tell it from a fresher fault's answer, so the pass runs once more with a
 * new copy. Page 0 is not present; pages 1-3 are in GPU memory, so that
 * the walk asks the GPU for aliases, which plants the stale slot. The
 * locked call, and the unlocked one (its own loop of passes on 7.3), each
 * on a buffer of its own.
 */
TEST(stale_slot_stored_during_a_walk_is_repaired)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct egpu_fault f;
	uint64_t moved;
	uint8_t *buf;
	int unlocked;

	for (unlocked = 0; unlocked <= 1; unlocked++) {
		buf = map_pages(N);
		fill_pages(buf + PG, N - 1, 51);
		ASSERT_EQ(egpu_migrate(fd, true, buf + PG, (N - 1) * PG,
				       &moved), 0);
		ASSERT_EQ(moved, N - 1);
		ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
				     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT |
				     EGPU_FAULT_PLANT_LATE |
				     (unlocked ? EGPU_FAULT_UNLOCKED : 0),
				     buf, N * PG, &f), 0);
		TH_LOG("%s call: planted %u valid %" PRIu64 " aliases %" PRIu64,
		       unlocked ? "unlocked" : "locked", f.planted,
		       (uint64_t)f.valid, (uint64_t)f.aliases);
		ASSERT_EQ(f.planted, 1);
		EXPECT_EQ(f.valid, N - 1);
		EXPECT_EQ(f.aliases, N - 1);
		EXPECT_EQ(f.device_private, 0);
		EXPECT_TRUE(check_pages(buf + PG, N - 1, 51, 0, "CPU view"));
		ASSERT_EQ(munmap(buf, N * PG), 0);
	}
}

/* Write @v to the core's enable parameter. */
static void core_enable(const char *v)
{
	FILE *p = fopen("/sys/module/hmm_p2p/parameters/enable", "w");

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(fputs(v, p) >= 0);
	ASSERT_EQ(fclose(p), 0);
}

/*
 * With P2P switched off (or no provider left) after aliases were handed
 * out, a walk without a fault request must still keep the aliases a device
 * mapped: the stock walk would turn them "not valid" and hide them from the
 * invalidation that tears them down when the pages leave device memory.
 */
TEST(disabled_core_keeps_mapped_aliases_until_invalidated)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct egpu_fault f;
	uint64_t zaps0;
	uint8_t *buf;
	int ret;

	buf = gpu_pages(fd, N, 52);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, EGPU_FAULT_KEEP,
			     buf, N * PG, &f), 0);
	ASSERT_EQ(f.aliases, N);
	zaps0 = f.zaps;

	core_enable("N");
	ret = egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			 EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT, buf, N * PG, &f);
	core_enable("Y");
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.aliases, N);
	EXPECT_EQ(f.device_private, 0);

	EXPECT_TRUE(check_pages(buf, N, 52, 0, "CPU view"));
	EXPECT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_KEEP | EGPU_FAULT_SNAPSHOT, buf,
			     N * PG, &f), 0);
	EXPECT_EQ(f.zaps - zaps0, N);
}

/*
 * A caller that mirrors device memory of its own (dev_private_owner set)
 * and asks per slot (a fault on odd pages only). Layout: 0-1 never touched,
 * 2-3 RAM, 4-5 in this GPU (the caller's own), 6-7 in the other GPU. Its
 * own pages come back as they are (the stock answer for an owner), the
 * slot without a request is not faulted, the other GPU's pages are aliased
 * (with or without a request), and nothing migrates.
 */
TEST(own_owner_and_per_slot_requests)
{
	int fd0 = egpu_open_or_skip(0), fd1 = egpu_open(1);
	struct egpu_counters c0, c1;
	uint8_t *buf = map_pages(8), *vram = malloc(2 * PG), res[1];
	unsigned int reach;
	struct egpu_fault f;
	uint64_t moved;
	size_t i;

	if (fd1 < 0)
		RIG_MISSING(rig_gpus() >= 2,
			    "needs a second GPU (its pages are the foreign ones)");
	ASSERT_TRUE(vram != NULL);
	reach = egpu_client(fd0, true);
	ASSERT_EQ(egpu_client(fd1, true), reach);
	fill_pages(buf + 2 * PG, 6, 53);
	ASSERT_EQ(egpu_migrate(fd0, true, buf + 4 * PG, 2 * PG, &moved), 0);
	ASSERT_EQ(moved, 2);
	ASSERT_EQ(egpu_migrate(fd1, true, buf + 6 * PG, 2 * PG, &moved), 0);
	ASSERT_EQ(moved, 2);

	c0 = egpu_counters(fd0);
	c1 = egpu_counters(fd1);
	ASSERT_EQ(egpu_fault(fd0, EGPU_FAULT_CLIENT_EDU, reach,
			     EGPU_FAULT_OWN | EGPU_FAULT_ODD_ONLY, buf, 8 * PG,
			     &f), 0);
	TH_LOG("valid %" PRIu64 " device-private %" PRIu64 " aliases %" PRIu64,
	       (uint64_t)f.valid, (uint64_t)f.device_private,
	       (uint64_t)f.aliases);
	EXPECT_EQ(f.valid, 7);
	EXPECT_EQ(f.device_private, 2);
	EXPECT_EQ(f.aliases, 2);
	EXPECT_EQ(to_ram_since(fd0, &c0), 0);
	EXPECT_EQ(to_ram_since(fd1, &c1), 0);

	/* Every byte where it should be: each GPU's view, then the CPU's. */
	ASSERT_EQ(egpu_read_vram(fd0, buf + 4 * PG, 2 * PG, vram, res, NULL), 2);
	EXPECT_TRUE(check_pages(vram, 2, 53, 2, "GPU 0 view"));
	ASSERT_EQ(egpu_read_vram(fd1, buf + 6 * PG, 2 * PG, vram, res, NULL), 2);
	EXPECT_TRUE(check_pages(vram, 2, 53, 4, "GPU 1 view"));
	for (i = 0; i < 2 * PG; i++)
		if (buf[i]) {
			EXPECT_EQ(buf[i], 0);
			break;
		}
	EXPECT_TRUE(check_pages(buf + 2 * PG, 6, 53, 0, "CPU view"));
	free(vram);
	close(fd1);
}

/* ---- 2. per-page fallback on every path ---------------------------------- */

/*
 * 2 MiB-aligned, no THP, page 0 never touched (it needs a fault), pages
 * 1-63 in the GPU: hmm faults from the first page that needs it to the end
 * of its walk, which would migrate all 63. A reachable client must get 63
 * aliases and not one migration, with one provider or two.
 */
TEST(untouched_page_does_not_migrate_its_neighbours)
{
	const size_t n = 64, pmd = 2UL << 20;
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	uint8_t *raw, *buf, *vram = malloc((n - 1) * PG), *out = malloc(8 * PG);
	uint8_t resident[8];
	struct egpu_counters c0;
	struct egpu_edu_dma d;
	struct egpu_fault f;
	uint64_t moved;
	size_t i;

	ASSERT_TRUE(vram && out);
	raw = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(raw != MAP_FAILED);
	buf = (uint8_t *)(((uintptr_t)raw + pmd - 1) & ~(pmd - 1));
	ASSERT_EQ(madvise(buf, pmd, MADV_NOHUGEPAGE), 0);
	fill_pages(buf + PG, n - 1, 42);
	ASSERT_EQ(egpu_migrate(fd, true, buf + PG, (n - 1) * PG, &moved), 0);
	ASSERT_EQ(moved, n - 1);

	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, 0, buf, n * PG,
			     &f), 0);
	TH_LOG("valid %" PRIu64 " aliases %" PRIu64 " retries %" PRIu64,
	       (uint64_t)f.valid, (uint64_t)f.aliases, (uint64_t)f.retries);
	EXPECT_EQ(f.valid, n);
	EXPECT_EQ(f.aliases, n - 1);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_EQ(to_ram_since(fd, &c0), 0);
	memset(resident, 0, sizeof(resident));
	EXPECT_EQ(egpu_read_vram(fd, buf + PG, (n - 1) * PG, vram, resident,
				 NULL), n - 1);
	EXPECT_TRUE(check_pages(vram, n - 1, 42, 0, "VRAM after the fault"));

	/* Real DMA over the first 8 pages: page 0 reads zero, 1-7 by P2P. */
	ASSERT_EQ(munmap(buf, PG), 0);	/* untouched again */
	ASSERT_TRUE(mmap(buf, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    buf);
	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_dma(fd, reach, EGPU_DMA_READ, buf, 8 * PG, out, &d), 0);
	EXPECT_EQ(d.pages, 8);
	EXPECT_EQ(d.p2p_pages, 7);
	EXPECT_EQ(to_ram_since(fd, &c0), 0);
	for (i = 0; i < PG; i++)
		if (out[i]) {
			EXPECT_EQ(out[i], 0);
			break;
		}
	EXPECT_TRUE(check_pages(out + PG, 7, 42, 0, "P2P read after page 0"));
	free(out);
	free(vram);
}

/* Kilobytes of anonymous THP mapped by this process (smaps_rollup). */
static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Two adjacent 2 MiB THPs of anonymous memory, filled with @seed and
 * @seed + 1, if the kernel gives THPs for them.
 */
static uint8_t *thp_pair(uint64_t seed)
{
	const size_t pmd = 2UL << 20;
	long kb0 = anon_huge_kb();
	uint8_t *raw, *buf;

	raw = mmap(NULL, 3 * pmd, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(raw != MAP_FAILED);
	buf = (uint8_t *)(((uintptr_t)raw + pmd - 1) & ~(pmd - 1));
	if (madvise(buf, 2 * pmd, MADV_HUGEPAGE))
		SKIP("MADV_HUGEPAGE: %s (no THP in this kernel)", strerror(errno));
	fill_pages(buf, pmd / PG, seed);
	fill_pages(buf + pmd, pmd / PG, seed + 1);
	if (anon_huge_kb() - kb0 < 4096)
		SKIP("the kernel gave no THPs for the region (THP disabled?)");
	return buf;
}

/*
 * THP: a 2 MiB PMD-mapped THP of RAM, followed by a THP four of whose pages
 * moved into the GPU (the migration splits that one). One fault over both
 * (1024 pages): the PMD-mapped RAM comes back as it is (with its order),
 * the four GPU pages as aliases, nothing migrates, every byte in place.
 */
TEST(thp_ranges_with_device_pages_inside)
{
	const size_t n = 512;
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	uint8_t *a, *b, *vram = malloc(4 * PG), res[1];
	struct egpu_counters c0;
	struct egpu_fault f;
	uint64_t moved;

	ASSERT_TRUE(vram != NULL);
	a = thp_pair(61);
	b = a + n * PG;
	ASSERT_EQ(egpu_migrate(fd, true, b + 100 * PG, 4 * PG, &moved), 0);
	ASSERT_EQ(moved, 4);

	c0 = egpu_counters(fd);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, 0, a, 2 * n * PG,
			     &f), 0);
	EXPECT_EQ(f.valid, 2 * n);
	EXPECT_EQ(f.aliases, 4);
	EXPECT_EQ(f.device_private, 0);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, EGPU_FAULT_WRITE,
			     a, 2 * n * PG, &f), 0);
	EXPECT_EQ(f.valid, 2 * n);
	EXPECT_EQ(f.aliases, 4);
	EXPECT_EQ(to_ram_since(fd, &c0), 0);
	ASSERT_EQ(egpu_read_vram(fd, b + 100 * PG, 4 * PG, vram, res, NULL), 4);
	EXPECT_TRUE(check_pages(vram, 4, 62, 100, "GPU view of the THP's pages"));
	EXPECT_TRUE(check_pages(a, n, 61, 0, "CPU view of the RAM THP"));
	EXPECT_TRUE(check_pages(b, n, 62, 0, "CPU view of the split THP"));
	free(vram);
}

/* ---- 3. only aliases the client can map ---------------------------------- */

/*
 * A client that is not a PCI device: the DMA mapping refuses P2P for it
 * (pci_p2pdma_map_type()), even though its parent is a PCI device close
 * to the provider. It must get migrated pages, not aliases.
 */
TEST(non_pci_client_gets_no_alias)
{
	int fd = egpu_open_or_skip(0);
	struct p2p_counters p0, dp;
	struct egpu_counters c0;
	struct egpu_fault f;
	uint8_t *buf;

	buf = gpu_pages(fd, N, 43);
	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	ASSERT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_NON_PCI, 0, 0, buf, N * PG,
			     &f), 0);
	dp = p2p_delta(&p0, NULL);
	p2p_log("non-PCI client", &dp);
	EXPECT_EQ(f.valid, N);
	EXPECT_EQ(f.aliases, 0);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_GE(dp.v[P2P_UNREACHABLE], N);
	EXPECT_EQ(to_ram_since(fd, &c0), N);
	EXPECT_TRUE(check_pages(buf, N, 43, 0, "CPU view"));
}

/*
 * A provider that answers with a P2PDMA page of another device (another
 * GPU's window): reachability was decided for the provider's own device,
 * so such an alias is refused, logged, and the page migrates.
 */
TEST(alias_outside_the_providers_bar_is_refused)
{
	int fd = egpu_open_or_skip(0), fd1 = egpu_open(1);
	struct egpu_refuse r = { 0, EGPU_REFUSE_FOREIGN };
	unsigned int reach = egpu_client(fd, true);
	struct p2p_counters p0, dp;
	struct egpu_counters c0;
	struct egpu_fault f;
	uint8_t *buf;

	if (fd1 < 0)
		RIG_MISSING(rig_gpus() >= 2,
			    "needs a second GPU (its window is the foreign alias)");
	buf = gpu_pages(fd, N, 44);
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &r), 0);
	c0 = egpu_counters(fd);
	p0 = p2p_read(NULL);
	EXPECT_EQ(egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, 0, buf, N * PG,
			     &f), 0);
	dp = p2p_delta(&p0, NULL);
	r.flags = 0;
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &r), 0);
	p2p_log("foreign aliases", &dp);
	EXPECT_EQ(f.aliases, 0);
	EXPECT_EQ(f.device_private, 0);
	EXPECT_GE(dp.v[P2P_REFUSED], N);
	EXPECT_EQ(dp.v[P2P_ALIASES], 0);
	EXPECT_EQ(to_ram_since(fd, &c0), N);
	EXPECT_TRUE(check_pages(buf, N, 44, 0, "CPU view"));
	close(fd1);
}

/* ---- 4. provider changes never wait for faults --------------------------- */

struct provider_call {
	int fd;
	unsigned int op, hold_ms;
	int ret;
	atomic_bool done;
};

static void *provider_call_fn(void *arg)
{
	struct provider_call *c = arg;

	c->ret = egpu_provider(c->fd, c->op, c->hold_ms);
	atomic_store(&c->done, true);
	return NULL;
}

struct fault_call {
	int fd;
	unsigned int kind, client, flags;
	void *addr;
	size_t len;
	struct egpu_fault f;
	int ret;
	atomic_bool done;
};

static void *fault_call_fn(void *arg)
{
	struct fault_call *c = arg;

	c->ret = egpu_fault(c->fd, c->kind, c->client, c->flags, c->addr,
			    c->len, &c->f);
	atomic_store(&c->done, true);
	return NULL;
}

/* Wait until *@flag is set, at most @ms milliseconds. */
static bool wait_flag(atomic_bool *flag, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms / 10 && !atomic_load(flag); i++)
		usleep(10000);
	return atomic_load(flag);
}

/*
 * The deadlock of the target workload: a fault migrates a page whose
 * migrate_to_ram() needs the GPU's device-memory lock, while the GPU
 * holds that lock to declare a pagemap. Declaring must not wait for the
 * fault (and nothing of hmm-p2p's may be held across the fault).
 */
TEST_TIMEOUT(declare_while_a_fault_waits_for_the_provider_lock, 120)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct provider_call decl = { .fd = fd, .op = EGPU_PROVIDER_DECLARE,
				      .hold_ms = 2000 };
	struct fault_call fault = { .fd = fd, .kind = EGPU_FAULT_CLIENT_EDU,
				    .len = N * PG };
	pthread_t td, tf;
	uint8_t *buf;

	buf = gpu_pages(fd, N, 45);
	/* Undeclared, so the fault migrates them: migrate_to_ram() runs. */
	ASSERT_EQ(egpu_provider(fd, EGPU_PROVIDER_WITHDRAW, 0), 0);
	fault.client = reach;
	fault.addr = buf;

	ASSERT_EQ(pthread_create(&td, NULL, provider_call_fn, &decl), 0);
	usleep(300000);		/* the lock is held now */
	ASSERT_EQ(pthread_create(&tf, NULL, fault_call_fn, &fault), 0);
	EXPECT_TRUE(wait_flag(&decl.done, 30000));
	EXPECT_TRUE(wait_flag(&fault.done, 30000));
	if (!atomic_load(&decl.done) || !atomic_load(&fault.done)) {
		/* Deadlocked: the threads cannot be joined; report and go. */
		TH_LOG("declare %s, fault %s after 30 s",
		       atomic_load(&decl.done) ? "done" : "stuck",
		       atomic_load(&fault.done) ? "done" : "stuck");
		fflush(stdout);
		_exit(1);
	}
	pthread_join(td, NULL);
	pthread_join(tf, NULL);
	EXPECT_EQ(decl.ret, 0);
	EXPECT_EQ(fault.ret, 0);
	EXPECT_EQ(fault.f.device_private, 0);
	EXPECT_TRUE(check_pages(buf, N, 45, 0, "CPU view"));
}

/* ---- 5. userfaultfd: lock drop, stalls, fatal signals -------------------- */

struct uffd_region {
	int uffd;
	uint8_t *buf;
	size_t n;
	uint64_t seed;
	atomic_uint served;
	atomic_bool stop;
	pthread_t handler;
};

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		SKIP("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	return uffd;
}

/* @n pages that nobody touched, registered for MISSING faults. */
static void uffd_region_init(struct uffd_region *r, size_t n, uint64_t seed)
{
	struct uffdio_register reg;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->seed = seed;
	r->uffd = uffd_open();
	r->buf = map_pages(n);
	reg.range.start = (uintptr_t)r->buf;
	reg.range.len = n * PG;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(ioctl(r->uffd, UFFDIO_REGISTER, &reg), 0);
}

/* Wait up to @ms for a fault; its page address, or 0. */
static uint64_t uffd_next_fault(struct uffd_region *r, int ms)
{
	struct pollfd p = { .fd = r->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (read(r->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	return msg.arg.pagefault.address & ~(PG - 1);
}

/* Answer a fault at @addr with its page of the pattern. */
static void uffd_serve(struct uffd_region *r, uint64_t addr)
{
	size_t page = (addr - (uintptr_t)r->buf) / PG, j;
	uint64_t *src = malloc(PG);
	struct uffdio_copy copy;

	ASSERT_TRUE(src != NULL);
	for (j = 0; j < PG / 8; j++)
		src[j] = pattern_word(r->seed, page, j);
	copy.dst = addr;
	copy.src = (uintptr_t)src;
	copy.len = PG;
	copy.mode = 0;
	copy.copy = 0;
	/* EEXIST: someone else filled it meanwhile; the data is the same. */
	if (ioctl(r->uffd, UFFDIO_COPY, &copy) == 0 || errno == EEXIST)
		atomic_fetch_add(&r->served, 1);
	free(src);
}

static void *uffd_handler_fn(void *arg)
{
	struct uffd_region *r = arg;

	while (!atomic_load(&r->stop)) {
		uint64_t addr = uffd_next_fault(r, 100);

		if (addr)
			uffd_serve(r, addr);
	}
	return NULL;
}

/*
 * On 7.3 the unlocked variant lets handle_mm_fault() drop the mmap lock, so
 * a fault on userfaultfd memory waits for the handler and succeeds; where
 * the kernel has no such fault (7.2) it fails as hmm_range_fault() fails
 * it (-EFAULT), like the stock ODP path of that kernel.
 */
TEST_TIMEOUT(unlocked_fault_serves_userfaultfd_memory, 120)
{
	int fd = egpu_open_or_skip(0);
	bool drops = kernel_drops_mmap_lock();
	struct uffd_region r;
	struct egpu_fault f;
	int ret;

	uffd_region_init(&r, N, 46);
	ASSERT_EQ(pthread_create(&r.handler, NULL, uffd_handler_fn, &r), 0);
	ret = egpu_fault(fd, EGPU_FAULT_CLIENT_CPU, 0, EGPU_FAULT_UNLOCKED,
			 r.buf, N * PG, &f);
	TH_LOG("kernel %s the mmap lock: fault %d, %u pages served",
	       drops ? "drops" : "keeps", ret, atomic_load(&r.served));
	if (drops) {
		EXPECT_EQ(ret, 0);
		EXPECT_EQ(f.valid, N);
		EXPECT_EQ(atomic_load(&r.served), N);
	} else {
		EXPECT_EQ(ret, -EFAULT);
	}
	atomic_store(&r.stop, true);
	pthread_join(r.handler, NULL);
	/* The CPU view (only once served: nobody answers now). */
	if (drops && !ret)
		EXPECT_TRUE(check_pages(r.buf, N, 46, 0, "userfaultfd pages"));
}

struct unbind_call {
	const char *pci_name;
	int ret;
	atomic_bool done;
};

static void *unbind_fn(void *arg)
{
	struct unbind_call *u = arg;

	u->ret = write_file(SYSFS_EGPU_DRV "/unbind", u->pci_name);
	atomic_store(&u->done, true);
	return NULL;
}

/*
 * A fault blocked on memory whose userfaultfd never answers holds nothing
 * of hmm-p2p's: unbinding another GPU (which unregisters its provider)
 * completes while it waits.
 */
TEST_TIMEOUT(stalled_fault_does_not_block_unbinding_a_gpu, 180)
{
	int fd = egpu_open_or_skip(0), fd1 = egpu_open(1);
	struct fault_call fault = { .fd = fd, .kind = EGPU_FAULT_CLIENT_CPU,
				    .flags = EGPU_FAULT_UNLOCKED,
				    .len = N * PG };
	struct unbind_call unbind = {};
	struct egpu_info info1;
	struct uffd_region r;
	pthread_t tf, tu;
	bool unbound_in_time;
	uint64_t addr;
	int i;

	if (fd1 < 0)
		RIG_MISSING(rig_gpus() >= 2, "needs a second GPU to unbind");
	if (!kernel_drops_mmap_lock())
		SKIP("no lock-dropping fault here: a userfaultfd fault fails at once");
	info1 = egpu_info(fd1);
	close(fd1);
	uffd_region_init(&r, N, 47);
	fault.addr = r.buf;
	ASSERT_EQ(pthread_create(&tf, NULL, fault_call_fn, &fault), 0);
	addr = uffd_next_fault(&r, 20000);
	ASSERT_NE(addr, 0);	/* the fault is waiting for us now */

	unbind.pci_name = info1.pci_name;
	ASSERT_EQ(pthread_create(&tu, NULL, unbind_fn, &unbind), 0);
	/* From here on: no ASSERT before the fault is released and GPU 1 back. */
	unbound_in_time = wait_flag(&unbind.done, 20000);
	EXPECT_TRUE(unbound_in_time);
	EXPECT_FALSE(atomic_load(&fault.done));

	/* Release the fault; serve every page it asks for. */
	uffd_serve(&r, addr);
	for (i = 0; i < 200 && !atomic_load(&fault.done); i++) {
		addr = uffd_next_fault(&r, 100);
		if (addr)
			uffd_serve(&r, addr);
	}
	EXPECT_TRUE(atomic_load(&fault.done));
	EXPECT_TRUE(wait_flag(&unbind.done, 20000));
	if (atomic_load(&fault.done))
		pthread_join(tf, NULL);
	if (atomic_load(&unbind.done))
		pthread_join(tu, NULL);
	EXPECT_EQ(fault.ret, 0);
	EXPECT_EQ(fault.f.valid, N);
	EXPECT_EQ(unbind.ret, 0);
	if (atomic_load(&unbind.done) && !unbind.ret)
		EXPECT_EQ(write_file(SYSFS_EGPU_DRV "/bind", info1.pci_name), 0);
	EXPECT_TRUE(check_pages(r.buf, N, 47, 0, "userfaultfd pages"));
}

/* Write @v to one of the emulated GPU's parameters. */
static void egpu_param(const char *name, const char *v)
{
	char path[128];
	FILE *p;

	snprintf(path, sizeof(path), "/sys/module/hmm_p2p_egpu/parameters/%s",
		 name);
	p = fopen(path, "w");
	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(fputs(v, p) >= 0);
	ASSERT_EQ(fclose(p), 0);
}

#define STORM_PAGES 1024

struct storm {
	uint8_t *page;
	atomic_bool stop;
	atomic_bool ended;	/* the storm ran out of time */
	atomic_ulong zaps;
};

/* MADV_DONTNEED on one page in a loop, for at most 90 s. */
static void *storm_fn(void *arg)
{
	struct storm *st = arg;
	time_t end = time(NULL) + 90;

	/* No write in between: the zap alone invalidates, and is fast. */
	while (!atomic_load(&st->stop) && time(NULL) < end) {
		madvise(st->page, PG, MADV_DONTNEED);
		atomic_fetch_add(&st->zaps, 1);
	}
	atomic_store(&st->ended, true);
	return NULL;
}

/*
 * An invalidation storm on one page of the range (a user looping
 * MADV_DONTNEED) keeps every pass from finishing. The stock loop gives up
 * with -EBUSY once its budget is spent (it restarts the budget only after a
 * fault dropped the mmap lock); the P2P fault must end as well, or an ODP
 * page-fault worker spins for as long as the user likes.
 */
TEST_TIMEOUT(invalidation_storm_ends_the_fault_within_its_budget, 150)
{
	int fd = egpu_open_or_skip(0);
	unsigned int reach = egpu_client(fd, true);
	struct storm st = { 0 };
	struct egpu_fault f = { 0 };
	unsigned long zaps0;
	pthread_t t;
	uint8_t *buf;
	int ret;

	/*
	 * 4 MiB, so that a pass takes long enough for the storm to hit
	 * every one of them.
	 */
	buf = map_pages(STORM_PAGES);
	fill_pages(buf, STORM_PAGES, 53);
	st.page = buf;
	egpu_param("retry_timeout_ms", "1000");
	ASSERT_EQ(pthread_create(&t, NULL, storm_fn, &st), 0);
	/* The storm is on before the fault starts. */
	while (atomic_load(&st.zaps) < 1000 && !atomic_load(&st.ended))
		usleep(1000);
	zaps0 = atomic_load(&st.zaps);
	ret = egpu_fault(fd, EGPU_FAULT_CLIENT_EDU, reach, EGPU_FAULT_UNLOCKED,
			 buf, STORM_PAGES * PG, &f);
	TH_LOG("fault returned %d after %lu retries, %lu zaps during it", ret,
	       (unsigned long)f.retries,
	       (unsigned long)(atomic_load(&st.zaps) - zaps0));
	/* The call ended while the storm was still running. */
	EXPECT_FALSE(atomic_load(&st.ended));
	atomic_store(&st.stop, true);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	egpu_param("retry_timeout_ms", "30000");
	EXPECT_TRUE(ret == 0 || ret == -EBUSY);
}

/*
 * A fatal signal ends a fault that waits for an unanswered userfaultfd. The
 * child says on a pipe when it starts the fault, and how it ended if it
 * ends by itself (where no fault can stall: 7.2).
 */
TEST_TIMEOUT(fatal_signal_ends_a_stalled_fault, 120)
{
	int fd = egpu_open_or_skip(0), status = 0, i, p[2];
	bool drops = kernel_drops_mmap_lock(), blocked;
	char c = 0;
	pid_t pid;

	close(fd);
	/* The child's region needs userfaultfd: skip here, not in the child. */
	close(uffd_open());
	ASSERT_EQ(pipe(p), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct uffd_region r;
		struct egpu_fault f;
		int gfd = egpu_open(0), ret;

		uffd_region_init(&r, N, 48);
		if (gfd < 0 || write(p[1], "f", 1) != 1)
			_exit(2);
		ret = egpu_fault(gfd, EGPU_FAULT_CLIENT_CPU, 0,
				 EGPU_FAULT_UNLOCKED, r.buf, N * PG, &f);
		_exit(ret == -EFAULT ? 0 : 3);
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &c, 1), 1);
	sleep(1);
	blocked = waitpid(pid, &status, WNOHANG) == 0;
	TH_LOG("the child's fault %s after 1 s", blocked ? "waits" : "ended");
	if (!blocked) {
		/* It can only end by itself where faults cannot stall. */
		EXPECT_FALSE(drops);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		return;
	}
	kill(pid, SIGKILL);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	EXPECT_LT(i, 100);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TAP_MAIN()
