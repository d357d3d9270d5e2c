// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bad input to every hmm_p2p_egpu ioctl gets the documented errno and no
 * kernel log line; the kernel-side API self-test passes; module parameters
 * refuse invalid values.
 */
#include <sys/syscall.h>

#include "egpu_test.h"

#define HUGE_ADDR	0xfffffffffffff000ULL

/* One range check, run against every range-taking command. */
struct range_case {
	const char *what;
	uint64_t addr, len;
	int err;
};

static int range_ioctl(int fd, int which, uint64_t addr, uint64_t len,
		       void *buf, unsigned int client)
{
	uint8_t resident[64];
	struct egpu_migrate m = { addr, len, 0, 0 };
	struct egpu_touch t = { .addr = addr, .len = len, .pattern = 1 };
	struct egpu_read_vram r = {
		.addr = addr, .len = len, .buf = (uintptr_t)buf,
		.resident = (uintptr_t)resident,
	};
	struct egpu_edu_dma d = {
		.addr = addr, .len = len, .buf = (uintptr_t)buf,
		.client = client, .dir = EGPU_DMA_READ,
	};

	switch (which) {
	case 0:
		return egpu_ioctl(fd, EGPU_IOC_MIGRATE_TO_DEV, &m);
	case 1:
		return egpu_ioctl(fd, EGPU_IOC_MIGRATE_TO_RAM, &m);
	case 2:
		return egpu_ioctl(fd, EGPU_IOC_TOUCH, &t);
	case 3:
		return egpu_ioctl(fd, EGPU_IOC_READ_VRAM, &r);
	default:
		return egpu_ioctl(fd, EGPU_IOC_EDU_DMA, &d);
	}
}

static const char *const range_cmds[] = {
	"MIGRATE_TO_DEV", "MIGRATE_TO_RAM", "TOUCH", "READ_VRAM", "EDU_DMA",
};

/* 8a. Bad ranges: zero, unaligned, huge, overflowing, beyond the task. */
TEST(bad_ranges)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(4), *out = malloc(4 * PG);
	uint64_t a = (uintptr_t)buf;
	const uint64_t max[] = {
		EGPU_MAX_LEN, EGPU_MAX_LEN, EGPU_MAX_LEN, EGPU_MAX_READ_LEN,
		EGPU_MAX_DMA_LEN,
	};
	int kmsg = open_kmsg(), which, i;

	ASSERT_TRUE(out != NULL);
	for (which = 0; which < 5; which++) {
		const struct range_case cases[] = {
			{ "zero length", a, 0, -EINVAL },
			{ "unaligned start", a + 1, PG, -EINVAL },
			{ "unaligned length", a, PG - 1, -EINVAL },
			{ "unaligned both", a + 8, 2 * PG - 8, -EINVAL },
			{ "too long", a, max[which] + PG, -EINVAL },
			{ "huge length", a, ~0ULL & ~(PG - 1), -EINVAL },
			{ "overflowing end", HUGE_ADDR, 2 * PG, -EINVAL },
			/* Above any x86-64 user space, 4- or 5-level. */
			{ "beyond the task", 1ULL << 62, PG, -EINVAL },
			{ "kernel address", 0xffff888000000000ULL, PG, -EINVAL },
		};

		for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
			int ret = range_ioctl(fd, which, cases[i].addr,
					      cases[i].len, out, client);

			if (ret != cases[i].err)
				TH_LOG("%s, %s", range_cmds[which], cases[i].what);
			EXPECT_EQ(ret, cases[i].err);
		}
	}
	EXPECT_EQ(count_kmsg(kmsg, "hmm_p2p"), 0);
}

/* 8b. Addresses without a VMA. */
TEST(ranges_without_vma)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(4), *out = malloc(4 * PG), resident[1];
	int kmsg = open_kmsg(), which;

	ASSERT_TRUE(out != NULL);
	ASSERT_EQ(munmap(buf + 2 * PG, 2 * PG), 0);
	for (which = 0; which < 5; which++) {
		int ret = range_ioctl(fd, which, (uintptr_t)buf, 4 * PG, out,
				      client);

		if (which == 3) {
			/* The GPU's view of a hole: nothing resident. */
			EXPECT_EQ(ret, 0);
			continue;
		}
		if (ret != -EFAULT)
			TH_LOG("%s over a hole", range_cmds[which]);
		EXPECT_EQ(ret, -EFAULT);
	}
	EXPECT_EQ(egpu_read_vram(fd, buf, 4 * PG, out, resident, NULL), 0);
	EXPECT_EQ(count_kmsg(kmsg, "hmm_p2p"), 0);
}

/* 8c. Bad fields, bad pointers, bad client, unknown commands. */
TEST(bad_fields)
{
	int fd = egpu_open_or_skip(0);
	unsigned int client = egpu_client(fd, true);
	uint8_t *buf = map_pages(2), *out = malloc(2 * PG), resident[1];
	struct egpu_migrate m = { (uintptr_t)buf, PG, 0, 1 };
	struct egpu_touch t = { .addr = (uintptr_t)buf, .len = PG, .flags = 2 };
	struct egpu_refuse rf = { 1, 0x80 };	/* an unknown flag */
	struct egpu_edu_dma d;
	int kmsg = open_kmsg();
	uint64_t moved;

	ASSERT_TRUE(out != NULL);
	fill_pages(buf, 2, 31);
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_MIGRATE_TO_DEV, &m), -EINVAL);
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_TOUCH, &t), -EINVAL);
	t.flags = 0;
	t.pad = 1;
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_TOUCH, &t), -EINVAL);
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &rf), -EINVAL);

	/* EDU_DMA: client index, direction, user pointers. */
	EXPECT_EQ(egpu_dma(fd, 99, EGPU_DMA_READ, buf, PG, out, NULL), -ENODEV);
	EXPECT_EQ(egpu_dma(fd, 1U << 31, EGPU_DMA_READ, buf, PG, out, NULL),
		  -ENODEV);
	EXPECT_EQ(egpu_dma(fd, client, 2, buf, PG, out, NULL), -EINVAL);
	EXPECT_EQ(egpu_dma(fd, client, EGPU_DMA_WRITE, buf, PG, NULL, NULL),
		  -EFAULT);
	EXPECT_EQ(egpu_dma(fd, client, EGPU_DMA_READ, buf, PG, NULL, NULL),
		  -EFAULT);
	EXPECT_TRUE(check_pages(buf, 2, 31, 0, "data after refused DMA"));
	memset(&d, 0, sizeof(d));
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_EDU_DMA, NULL), -EFAULT);

	/* READ_VRAM: bad output pointers with a resident page. */
	ASSERT_EQ(egpu_migrate(fd, true, buf, 2 * PG, &moved), 0);
	EXPECT_EQ(egpu_read_vram(fd, buf, 2 * PG, NULL, resident, NULL), -EFAULT);
	EXPECT_EQ(egpu_read_vram(fd, buf, 2 * PG, out, NULL, NULL), -EFAULT);
	EXPECT_EQ(egpu_read_vram(fd, buf, 2 * PG, out, resident,
				 (uint64_t *)8), -EFAULT);
	EXPECT_EQ(egpu_read_vram(fd, buf, 2 * PG, out, resident, NULL), 2);

	/* Unknown commands, and known numbers with the wrong size. */
	EXPECT_EQ(egpu_ioctl(fd, _IOWR(EGPU_IOC_MAGIC, 0x7f, struct egpu_migrate),
			     &m), -ENOTTY);
	EXPECT_EQ(egpu_ioctl(fd, _IOWR(EGPU_IOC_MAGIC, 0x00, uint32_t), &m),
		  -ENOTTY);
	EXPECT_EQ(egpu_ioctl(fd, _IO(EGPU_IOC_MAGIC, 0x06), NULL), -ENOTTY);
	EXPECT_EQ(egpu_ioctl(fd, 0, NULL), -ENOTTY);
	EXPECT_EQ(egpu_ioctl(fd, EGPU_IOC_COUNTERS, NULL), -EFAULT);
	EXPECT_EQ(count_kmsg(kmsg, "hmm_p2p"), 0);
	EXPECT_TRUE(check_pages(buf, 2, 31, 0, "data at the end"));
}

/* 8d. The opener's address space only: a forked child is refused. */
TEST(other_process)
{
	int fd = egpu_open_or_skip(0), status;
	uint8_t *buf = map_pages(1);
	pid_t pid;

	buf[0] = 1;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(egpu_migrate(fd, true, buf, PG, NULL) == -EINVAL ? 0 : 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(egpu_migrate(fd, true, buf, PG, NULL), 0);
	EXPECT_EQ(buf[0], 1);
}

/* 8e. The kernel-side self-test of the hmm-p2p API. */
TEST(api_selftest)
{
	int fd = egpu_open_or_skip(0);
	struct egpu_selftest st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_API_SELFTEST, &st), 0);
	TH_LOG("%u checks, failed mask %#" PRIx64, st.nr_checks,
	       (uint64_t)st.failed);
	EXPECT_GE(st.nr_checks, 20);
	EXPECT_EQ(st.failed, 0);
}

/* 8f. Module parameters refuse invalid values. */
TEST(module_params)
{
	const char *p = "/sys/module/hmm_p2p_egpu/parameters/dma_timeout_ms";
	char old[32] = "";
	FILE *f = fopen(p, "r");

	if (!f)
		SKIP("%s: %s", p, strerror(errno));
	ASSERT_TRUE(fgets(old, sizeof(old), f) != NULL);
	fclose(f);
	EXPECT_EQ(write_file(p, "5"), -EINVAL);
	EXPECT_EQ(write_file(p, "abc"), -EINVAL);
	EXPECT_EQ(write_file(p, "-1"), -EINVAL);
	EXPECT_EQ(write_file(p, "99999999999"), -EINVAL);
	EXPECT_EQ(write_file(p, "6000"), 0);
	EXPECT_EQ(read_u64_file(p), 6000);
	EXPECT_EQ(write_file(p, old), 0);
	EXPECT_EQ(write_file("/sys/module/hmm_p2p_egpu/parameters/retry_timeout_ms",
			     "1"), -EINVAL);
}

TAP_MAIN()
