// SPDX-License-Identifier: GPL-2.0-only
/*
 * A GPU goes away while in use: its memory holds process data and DMA
 * readers are running, one through the other GPU's file (a pure hmm-p2p
 * client of the departing provider) and one through the departing GPU's
 * own file. Unbind must not crash, must give the data back to RAM, and a
 * rebind must give a working GPU again. rmmod must be refused while a
 * device file is open.
 *
 * This test unbinds and rebinds GPU 0 through sysfs: it needs root and
 * must not run next to other tests.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "egpu_test.h"

#define UP	4

struct reader {
	int fd;
	unsigned int client;
	uint8_t *buf;
	uint64_t seed;
	atomic_bool stop;
	atomic_uint reads;
	unsigned int bad, errors, enodev;
	int last_error;
	uint64_t p2p;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	uint8_t *out = malloc(UP * PG);

	if (!out)
		return NULL;
	while (!atomic_load(&r->stop)) {
		struct egpu_edu_dma d;
		int ret = egpu_dma(r->fd, r->client, EGPU_DMA_READ, r->buf,
				   UP * PG, out, &d);

		if (ret == -ENODEV) {
			/* Our GPU is gone: the expected end for its own file. */
			r->enodev++;
			break;
		}
		if (ret) {
			r->errors++;
			r->last_error = ret;
		} else {
			r->p2p += d.p2p_pages;
			r->bad += !check_pages(out, UP, r->seed, 0, "DMA during unbind");
		}
		atomic_fetch_add(&r->reads, 1);
	}
	free(out);
	return NULL;
}

static bool wait_reads(struct reader *r, unsigned int n, int seconds)
{
	int i;

	for (i = 0; i < seconds * 10; i++) {
		if (atomic_load(&r->reads) >= n)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * A GPU driver that knows nothing of hmm-p2p (amdgpu_like, xe_like) gets
 * its provider from gpu_p2p once it has bound, not during its probe.
 */
static bool wait_provider(const char *name, int seconds)
{
	char path[256];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), SYSFS_P2P "/providers/%s", name);
	for (i = 0; i < seconds * 10; i++) {
		if (!stat(path, &st))
			return true;
		usleep(100000);
	}
	return false;
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

/* 7a. Unbind GPU 0 while its memory holds data and DMA is running. */
TEST_TIMEOUT(unbind_while_in_use, 300)
{
	int fd0 = egpu_open_or_skip(0), fd1 = egpu_open_or_skip(1);
	struct egpu_info info = egpu_info(fd0);
	struct reader b = { .fd = fd1, .seed = 21 };
	struct reader c = { .fd = fd0, .seed = 21 };
	struct egpu_counters c0, c1;
	uint8_t *buf = map_pages(UP), *out;
	char path[256];
	pthread_t tb, tc;
	int ret, rebind, fd;
	uint64_t moved;
	struct stat st;

	b.client = egpu_client(fd1, true);
	c.client = b.client;
	ASSERT_EQ(egpu_client(fd0, true), b.client);
	b.buf = buf;
	c.buf = buf;
	fill_pages(buf, UP, 21);
	ASSERT_EQ(egpu_migrate(fd0, true, buf, UP * PG, &moved), 0);
	ASSERT_EQ(moved, UP);
	c0 = egpu_counters(fd0);

	ASSERT_EQ(pthread_create(&tb, NULL, reader_fn, &b), 0);
	ASSERT_EQ(pthread_create(&tc, NULL, reader_fn, &c), 0);
	ASSERT_TRUE(wait_reads(&b, 1, 60));

	/* The departing provider's aliases were in use by GPU 1's client. */
	EXPECT_GT(b.p2p, 0);
	TH_LOG("unbinding %s", info.pci_name);
	ret = write_file(SYSFS_EGPU_DRV "/unbind", info.pci_name);
	/* From here on: no ASSERT before the rebind. */
	EXPECT_EQ(ret, 0);
	EXPECT_TRUE(wait_reads(&b, atomic_load(&b.reads) + 2, 60));
	atomic_store(&b.stop, true);
	atomic_store(&c.stop, true);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);

	EXPECT_EQ(egpu_migrate(fd0, true, buf, UP * PG, NULL), -ENODEV);
	c1 = egpu_counters(fd0);
	EXPECT_EQ(c1.dev_pages_in_use, 0);
	EXPECT_EQ(egpu_to_ram(&c1) - egpu_to_ram(&c0), UP);
	TH_LOG("back to RAM: %" PRIu64 " evicted, %" PRIu64 " by fault",
	       (uint64_t)(c1.migrate_to_ram_evict - c0.migrate_to_ram_evict),
	       (uint64_t)(c1.migrate_to_ram_fault - c0.migrate_to_ram_fault));
	snprintf(path, sizeof(path), SYSFS_P2P "/providers/%s", info.provider);
	EXPECT_TRUE(stat(path, &st) < 0 && errno == ENOENT);
	TH_LOG("reader via GPU1: %u reads, %" PRIu64 " P2P pages; via GPU0: %u reads, ENODEV %u",
	       atomic_load(&b.reads), b.p2p, atomic_load(&c.reads), c.enodev);
	EXPECT_EQ(b.bad + c.bad, 0);
	EXPECT_EQ(b.errors + c.errors, 0);
	/* GPU 0's own file ended with exactly one -ENODEV. */
	EXPECT_EQ(c.enodev, 1);
	if (b.errors + c.errors)
		TH_LOG("last errors %d %d", b.last_error, c.last_error);
	EXPECT_TRUE(check_pages(buf, UP, 21, 0, "CPU view after unbind"));
	close(fd0);

	rebind = write_file(SYSFS_EGPU_DRV "/bind", info.pci_name);
	ASSERT_EQ(rebind, 0);
	fd = wait_open(0, 20);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(strcmp(egpu_info(fd).pci_name, info.pci_name), 0);
	ASSERT_TRUE(wait_provider(info.provider, 20));
	ASSERT_EQ(egpu_migrate(fd, true, buf, UP * PG, &moved), 0);
	EXPECT_EQ(moved, UP);
	out = malloc(UP * PG);
	ASSERT_TRUE(out != NULL);
	{
		struct egpu_edu_dma d;

		ASSERT_EQ(egpu_dma(fd, b.client, EGPU_DMA_READ, buf, UP * PG,
				   out, &d), 0);
		EXPECT_EQ(d.p2p_pages, UP);
	}
	EXPECT_TRUE(check_pages(out, UP, 21, 0, "P2P read after rebind"));
	EXPECT_TRUE(check_pages(buf, UP, 21, 0, "CPU view after rebind"));
	close(fd);
	close(fd1);
}

/* 7b. A module with an open device file cannot be removed. */
TEST(rmmod_while_open)
{
	int fd = egpu_open_or_skip(0);
	long ret;

	errno = 0;
	ret = syscall(SYS_delete_module, "hmm_p2p_egpu", O_NONBLOCK);
	EXPECT_EQ(ret, -1);
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	if (ret == -1)
		TH_LOG("delete_module: %s (as expected)", strerror(errno));
	/* Still alive. */
	EXPECT_EQ(egpu_info(fd).index, 0);
	close(fd);
}

TAP_MAIN()
