// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation racing with the P2P fault: one thread keeps moving a range
 * between RAM and VRAM and rewriting it from the GPU, another keeps reading
 * it by DMA. Every DMA result must show, page by page, one pattern the page
 * really held: a uniform page of the "good" family with its page index.
 *
 * The trap for stale aliases: each round the range leaves VRAM and a decoy
 * range is written into the VRAM pages it just freed (first fit reuses
 * them) with a "bad" pattern. A DMA through an alias that survived its
 * invalidation reads the decoy, which never passes the check.
 *
 * Both threads use one file descriptor, so the GPU's own writes (TOUCH)
 * and the DMA are ordered by that file's notifier lock: a torn page can
 * only come from a broken invalidation, not from the test racing itself.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "egpu_test.h"

#define RP	4	/* pages of the range read by DMA */
#define DP	8	/* pages of the decoy */
#define READS	16	/* DMA reads per test, at least */
#define READS_MAX 64	/* ... and more until the race was shown, at most */
#define GOOD	0x600d000000000000ULL
#define BAD	0xbad0000000000000ULL
#define GEN(k)	((uint64_t)(k) << 16)

struct race {
	int fd;
	unsigned int client;
	uint8_t *range, *decoy;
	atomic_uint k_hi;	/* highest generation being or already written */
	atomic_bool stop;
	/* reader results */
	unsigned int reads, bad_pages, errors;
	int last_error;
	uint64_t retries, p2p;
	/* writer results */
	unsigned int rounds, touch_busy;
	unsigned int decoy_reused;	/* rounds whose decoy got freed pages */
	unsigned int seed;
	bool reachable;			/* the client reads through aliases */
};

/*
 * Did the race happen as the test needs it to prove something? An
 * invalidation met a DMA in flight (a retry) and, where the client can
 * alias, reads went through aliases and a decoy took freed VRAM pages.
 * How soon it happens depends on the kernel's speed (a debug kernel under
 * TCG is slower): the reader goes on until it did, within READS_MAX.
 */
static bool race_shown(struct race *r)
{
	if (!r->retries)
		return false;
	return !r->reachable ||
	       (r->p2p && __atomic_load_n(&r->decoy_reused, __ATOMIC_RELAXED));
}

/* A page must be uniform GOOD | GEN(k) + index, with 1 <= k <= k_hi. */
static bool page_ok(const uint64_t *w, unsigned int index, unsigned int k_hi)
{
	uint64_t v = w[0], base = v - index;
	unsigned int k = (base >> 16) & 0xffffffff;
	size_t j;

	for (j = 1; j < PG / 8; j++)
		if (w[j] != v) {
			TH_LOG("page %u torn: word 0 %#" PRIx64 ", word %zu %#" PRIx64,
			       index, v, j, w[j]);
			return false;
		}
	if ((base & 0xffff00000000ffffULL) != GOOD || k < 1 || k > k_hi) {
		TH_LOG("page %u holds %#" PRIx64 "%s (generations 1..%u expected)",
		       index, v, (v & 0xffff000000000000ULL) == BAD ?
		       ": the decoy, a stale alias" : "", k_hi);
		return false;
	}
	return true;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	uint64_t buf[RP * PG / 8];
	unsigned int i;

	while (r->reads < READS || (!race_shown(r) && r->reads < READS_MAX)) {
		struct egpu_edu_dma d;
		unsigned int k_hi;
		int ret;

		ret = egpu_dma(r->fd, r->client, EGPU_DMA_READ, r->range,
			       RP * PG, buf, &d);
		k_hi = atomic_load(&r->k_hi);
		r->reads++;
		r->retries += d.retries;
		if (ret) {
			r->errors++;
			r->last_error = ret;
			continue;
		}
		r->p2p += d.p2p_pages;
		for (i = 0; i < RP; i++)
			r->bad_pages += !page_ok(buf + i * PG / 8, i, k_hi);
	}
	atomic_store(&r->stop, true);
	return NULL;
}

static void touch_range(struct race *r, uint8_t *p, size_t pages, uint64_t v)
{
	int ret = egpu_touch(r->fd, p, pages * PG, v, EGPU_TOUCH_ADD_INDEX);

	/* Only a reader that keeps migrating the range may defeat TOUCH. */
	if (ret == -EBUSY)
		r->touch_busy++;
	else
		ASSERT_EQ(ret, 0);
}

/* The device pages of the resident pages of [@p, @p + @pages). */
static void dev_pages_of(struct race *r, uint8_t *p, size_t pages,
			 uint64_t *dev)
{
	uint8_t data[DP * PG], res[(DP + 7) / 8];

	memset(dev, 0xff, pages * sizeof(*dev));
	ASSERT_GE(egpu_read_vram(r->fd, p, pages * PG, data, res, dev), 0);
}

/* Does the decoy sit in a VRAM page the range just left? */
static bool decoy_reuses(const uint64_t *range_dev, const uint64_t *decoy_dev)
{
	unsigned int i, j;

	for (i = 0; i < RP; i++)
		for (j = 0; j < DP; j++)
			if (range_dev[i] != ~0ULL && range_dev[i] == decoy_dev[j])
				return true;
	return false;
}

static void writer_round(struct race *r)
{
	unsigned int k = atomic_load(&r->k_hi);
	uint64_t range_dev[RP], decoy_dev[DP];

	dev_pages_of(r, r->range, RP, range_dev);
	ASSERT_EQ(egpu_migrate(r->fd, false, r->range, RP * PG, NULL), 0);
	touch_range(r, r->decoy, DP, BAD | GEN(k));
	dev_pages_of(r, r->decoy, DP, decoy_dev);
	if (decoy_reuses(range_dev, decoy_dev))
		__atomic_fetch_add(&r->decoy_reused, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(egpu_migrate(r->fd, false, r->decoy, DP * PG, NULL), 0);
	if (r->rounds % 3 == 2) {
		/* Back to VRAM unchanged: the data the RAM copy holds. */
		ASSERT_EQ(egpu_migrate(r->fd, true, r->range, RP * PG, NULL), 0);
	} else {
		atomic_store(&r->k_hi, k + 1);
		touch_range(r, r->range, RP, GOOD | GEN(k + 1));
	}
	r->rounds++;
	/*
	 * Leave the range in VRAM for a while (0-0.3 s, under one DMA read)
	 * so that the reader gets aliases and the next MIGRATE_TO_RAM
	 * invalidates them while a DMA is in flight; every third round for
	 * longer than a whole read (1.5 s), so that reads also complete on
	 * aliases however the timing falls.
	 */
	if (r->rounds % 3 == 0)
		usleep(1500 * 1000);
	else
		usleep((rand_r(&r->seed) % 300) * 1000);
}

static void run_race(bool reachable)
{
	struct race r = { .fd = egpu_open_or_skip(0), .seed = 42,
			  .reachable = reachable };
	struct egpu_counters c0, c1;
	uint64_t final[RP * PG / 8];
	pthread_t t;
	unsigned int i, k;

	r.client = egpu_client(r.fd, reachable);
	r.range = map_pages(RP);
	r.decoy = map_pages(DP);
	atomic_store(&r.k_hi, 1);
	ASSERT_EQ(egpu_touch(r.fd, r.range, RP * PG, GOOD | GEN(1),
			     EGPU_TOUCH_ADD_INDEX), 0);
	c0 = egpu_counters(r.fd);

	ASSERT_EQ(pthread_create(&t, NULL, reader, &r), 0);
	/* One read undisturbed first: on aliases, when the client can. */
	while (!__atomic_load_n(&r.reads, __ATOMIC_RELAXED) &&
	       !atomic_load(&r.stop))
		usleep(1000);
	while (!atomic_load(&r.stop))
		writer_round(&r);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	c1 = egpu_counters(r.fd);

	TH_LOG("%u DMA reads (%" PRIu64 " P2P pages, %" PRIu64
	       " retries), %u writer rounds (%u with the decoy in freed pages), %u TOUCH -EBUSY, generation %u",
	       r.reads, r.p2p, r.retries, r.rounds, r.decoy_reused,
	       r.touch_busy, atomic_load(&r.k_hi));
	TH_LOG("egpu: %" PRIu64 " pages to VRAM, %" PRIu64 " to RAM, %" PRIu64
	       " DMA retries", (uint64_t)(c1.migrate_to_dev - c0.migrate_to_dev),
	       egpu_to_ram(&c1) - egpu_to_ram(&c0),
	       (uint64_t)(c1.dma_retries - c0.dma_retries));
	EXPECT_EQ(r.bad_pages, 0);
	EXPECT_EQ(r.errors, 0);
	if (r.errors)
		TH_LOG("last DMA error %d", r.last_error);
	EXPECT_GE(r.rounds, 1);
	/*
	 * Or it proved nothing: invalidations really raced the DMA
	 * (retries); the P2P variant used aliases, and its trap was set (the
	 * decoy took VRAM pages the range had just left). The migrating
	 * reader moves the range out itself, so it has no alias to trap.
	 */
	EXPECT_GT(r.retries, 0);
	if (reachable) {
		EXPECT_GT(r.p2p, 0);
		EXPECT_GT(r.decoy_reused, 0);
	}

	/* Quiet now: the last generation, exactly, by DMA and by the CPU. */
	k = atomic_load(&r.k_hi);
	ASSERT_EQ(egpu_touch(r.fd, r.range, RP * PG, GOOD | GEN(k),
			     EGPU_TOUCH_ADD_INDEX), 0);
	ASSERT_EQ(egpu_dma(r.fd, r.client, EGPU_DMA_READ, r.range, RP * PG,
			   final, NULL), 0);
	for (i = 0; i < RP * PG / 8; i++)
		if (final[i] != (GOOD | GEN(k)) + i / (PG / 8)) {
			EXPECT_EQ(final[i], (GOOD | GEN(k)) + i / (PG / 8));
			break;
		}
	memcpy(final, r.range, RP * PG);
	for (i = 0; i < RP * PG / 8; i++)
		if (final[i] != (GOOD | GEN(k)) + i / (PG / 8)) {
			EXPECT_EQ(final[i], (GOOD | GEN(k)) + i / (PG / 8));
			break;
		}
}

/* 6a. P2P reader: invalidations must stop it from using freed VRAM. */
TEST_TIMEOUT(race_invalidate_p2p, 300)
{
	run_race(true);
}

/* 6b. Migrating reader: it and the writer pull the range both ways. */
TEST_TIMEOUT(race_invalidate_fallback, 300)
{
	run_race(false);
}

TAP_MAIN()
