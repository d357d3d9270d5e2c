/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the hmm_p2p_egpu tests: the ioctls (returning 0 or
 * -errno), the hmm-p2p sysfs counters, buffers with known contents.
 */
#ifndef HMM_P2P_EGPU_TEST_H
#define HMM_P2P_EGPU_TEST_H

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "egpu_uapi.h"
#include "tap.h"

#define PG		4096UL
#define SYSFS_P2P	"/sys/kernel/hmm_p2p"
#define SYSFS_EGPU_DRV	"/sys/bus/pci/drivers/hmm_p2p_egpu"

/* ---- the rig ------------------------------------------------------------ */

/*
 * In the VM rig, tests/vm/run-suite says what it set up (HMM_P2P_RIG_GPUS:
 * emulated GPUs bound; HMM_P2P_RIG_RXE=odp: rxe_lo with ODP;
 * HMM_P2P_RIG_CONSUMER=1: mlx5_odp_p2p loaded). What the rig provides and
 * is missing fails the test; only what the rig does not provide (a kernel
 * without a feature, a pass with one GPU) is skipped.
 */
static inline int rig_gpus(void)
{
	const char *s = getenv("HMM_P2P_RIG_GPUS");

	return s ? atoi(s) : -1;
}

static inline bool rig_has(const char *what)
{
	const char *s = getenv(what);

	return s && *s;
}

#define RIG_MISSING(in_rig, fmt, ...)					\
	do {								\
		if (in_rig) {						\
			TH_LOG("missing, but the rig provides it: " fmt, \
			       ##__VA_ARGS__);				\
			tap_abort();					\
		}							\
		SKIP(fmt, ##__VA_ARGS__);				\
	} while (0)

/* ---- devices -------------------------------------------------------- */

static inline int egpu_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int egpu_open(int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/hmm_p2p_egpu%d", n);
	return open(path, O_RDWR | O_CLOEXEC);
}

static inline int egpu_provider(int fd, unsigned int op, unsigned int hold_ms)
{
	struct egpu_provider p = { op, hold_ms };

	return egpu_ioctl(fd, EGPU_IOC_PROVIDER, &p);
}

/*
 * Open GPU @n or skip; whatever an earlier test changed is undone: no
 * refusal, the pagemap declared to hmm-p2p.
 */
static inline int egpu_open_or_skip(int n)
{
	struct egpu_refuse r = { 0, 0 };
	int fd = egpu_open(n), ret;

	if (fd < 0)
		RIG_MISSING(n < rig_gpus(),
			    "/dev/hmm_p2p_egpu%d: %s (is hmm_p2p_egpu loaded and the GPU bound?)",
			    n, strerror(errno));
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_SET_REFUSE, &r), 0);
	ret = egpu_provider(fd, EGPU_PROVIDER_DECLARE, 0);
	/* -EOPNOTSUPP: amdgpu_like, the provider is gpu_p2p's. */
	ASSERT_TRUE(ret == 0 || ret == -EALREADY || ret == -EOPNOTSUPP);
	return fd;
}

static inline struct egpu_info egpu_info(int fd)
{
	struct egpu_info info;

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_INFO, &info), 0);
	return info;
}

static inline struct egpu_counters egpu_counters(int fd)
{
	struct egpu_counters c;

	memset(&c, 0, sizeof(c));
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_COUNTERS, &c), 0);
	return c;
}

static inline uint64_t egpu_to_ram(const struct egpu_counters *c)
{
	return c->migrate_to_ram_fault + c->migrate_to_ram_ioctl +
	       c->migrate_to_ram_evict;
}

/* Index of an edu that this GPU can (or cannot) reach by P2P; skip if none. */
static inline unsigned int egpu_client(int fd, bool reachable)
{
	struct egpu_clients c;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	ASSERT_EQ(egpu_ioctl(fd, EGPU_IOC_CLIENTS, &c), 0);
	for (i = 0; i < c.nr; i++) {
		bool p2p = c.client[i].distance >= 0;

		if (p2p == reachable)
			return c.client[i].index;
	}
	RIG_MISSING(rig_gpus() > 0, "no edu client with P2P distance %s",
		    reachable ? ">= 0" : "-1");
}

static inline int egpu_migrate(int fd, bool to_dev, void *addr, size_t len,
			       uint64_t *moved)
{
	struct egpu_migrate m = { (uintptr_t)addr, len, 0, 0 };
	int ret;

	ret = egpu_ioctl(fd, to_dev ? EGPU_IOC_MIGRATE_TO_DEV :
				      EGPU_IOC_MIGRATE_TO_RAM, &m);
	if (moved)
		*moved = m.moved;
	return ret;
}

static inline int egpu_touch(int fd, void *addr, size_t len, uint64_t pattern,
			     uint32_t flags)
{
	struct egpu_touch t = {
		.addr = (uintptr_t)addr, .len = len,
		.pattern = pattern, .flags = flags,
	};

	return egpu_ioctl(fd, EGPU_IOC_TOUCH, &t);
}

/* READ_VRAM into @out; @resident gets one bit per page; returns -errno or count. */
static inline long egpu_read_vram(int fd, void *addr, size_t len, void *out,
				  uint8_t *resident, uint64_t *dev_pages)
{
	struct egpu_read_vram r = {
		.addr = (uintptr_t)addr, .len = len, .buf = (uintptr_t)out,
		.resident = (uintptr_t)resident,
		.dev_pages = (uintptr_t)dev_pages,
	};
	int ret = egpu_ioctl(fd, EGPU_IOC_READ_VRAM, &r);

	return ret ? ret : (long)r.nr_resident;
}

static inline bool egpu_bit(const uint8_t *bits, size_t i)
{
	return bits[i / 8] & (1U << (i % 8));
}

static inline int egpu_dma(int fd, unsigned int client, unsigned int dir,
			   void *addr, size_t len, void *buf,
			   struct egpu_edu_dma *out)
{
	struct egpu_edu_dma d = {
		.addr = (uintptr_t)addr, .len = len, .buf = (uintptr_t)buf,
		.client = client, .dir = dir,
	};
	int ret = egpu_ioctl(fd, EGPU_IOC_EDU_DMA, &d);

	if (out)
		*out = d;
	return ret;
}

/* FAULT for a client of @kind (EGPU_FAULT_CLIENT_*); *@out gets the counts. */
static inline int egpu_fault(int fd, unsigned int kind, unsigned int client,
			     unsigned int flags, void *addr, size_t len,
			     struct egpu_fault *out)
{
	struct egpu_fault f = {
		.addr = (uintptr_t)addr, .len = len, .client_kind = kind,
		.client = client, .flags = flags,
	};
	int ret = egpu_ioctl(fd, EGPU_IOC_FAULT, &f);

	if (out)
		*out = f;
	return ret;
}

/* ---- hmm-p2p counters ---------------------------------------------- */

enum {
	P2P_WALKS, P2P_PAGES, P2P_ALIASES, P2P_UNREACHABLE, P2P_REFUSED,
	P2P_FAULTED, P2P_UNDECLARED, P2P_NR
};

static const char *const p2p_names[P2P_NR] = {
	"walks", "pages", "aliases", "fallback_unreachable",
	"fallback_refused", "faulted", "fallback_undeclared",
};

struct p2p_counters {
	uint64_t v[P2P_NR];
};

static inline uint64_t read_u64_file(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		RIG_MISSING(rig_gpus() > 0, "%s: %s (is hmm_p2p loaded?)", path,
			    strerror(errno));
	ASSERT_EQ(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

/* Totals, or one provider's counters when @prov is not NULL. */
static inline struct p2p_counters p2p_read(const char *prov)
{
	struct p2p_counters c;
	char path[256];
	int i;

	for (i = 0; i < P2P_NR; i++) {
		if (prov)
			snprintf(path, sizeof(path), SYSFS_P2P "/providers/%s/%s",
				 prov, p2p_names[i]);
		else
			snprintf(path, sizeof(path), SYSFS_P2P "/%s",
				 p2p_names[i]);
		c.v[i] = read_u64_file(path);
	}
	return c;
}

static inline struct p2p_counters p2p_delta(const struct p2p_counters *before,
					    const char *prov)
{
	struct p2p_counters now = p2p_read(prov);
	int i;

	for (i = 0; i < P2P_NR; i++)
		now.v[i] -= before->v[i];
	return now;
}

static inline void p2p_log(const char *what, const struct p2p_counters *d)
{
	TH_LOG("%s: walks %" PRIu64 " pages %" PRIu64 " aliases %" PRIu64
	       " unreachable %" PRIu64 " refused %" PRIu64 " faulted %" PRIu64
	       " undeclared %" PRIu64,
	       what, d->v[0], d->v[1], d->v[2], d->v[3], d->v[4], d->v[5],
	       d->v[6]);
}

/* ---- the kernel log ------------------------------------------------------ */

/* Kernel log records added since open_kmsg(), counted by substring. */
static inline int open_kmsg(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline int count_kmsg(int fd, const char *needle)
{
	char rec[8192];
	int n = 0;
	ssize_t len;

	if (fd < 0)
		return 0;
	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		if (strstr(rec, needle)) {
			TH_LOG("kernel: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			n++;
		}
	}
	close(fd);
	return n;
}

/* ---- buffers ----------------------------------------------------------- */

static inline void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

/* Distinct per seed, page and word, so a misplaced page cannot pass. */
static inline uint64_t pattern_word(uint64_t seed, size_t page, size_t word)
{
	return (seed << 40) ^ ((uint64_t)page << 20) ^ word ^
	       0x5a5a000000000000ULL;
}

static inline void fill_pages(void *p, size_t n, uint64_t seed)
{
	uint64_t *w = p;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < PG / 8; j++)
			w[i * (PG / 8) + j] = pattern_word(seed, i, j);
}

/* Compare every byte; report the first difference. True if equal. */
static inline bool same_bytes(const void *got, const void *want, size_t len,
			      const char *what)
{
	const uint8_t *g = got, *w = want;
	size_t i;

	if (!memcmp(got, want, len))
		return true;
	for (i = 0; i < len && g[i] == w[i]; i++)
		;
	TH_LOG("%s: first difference at byte %zu (page %zu): got %#x want %#x",
	       what, i, i / PG, g[i], w[i]);
	return false;
}

/* Every byte of @p against the pattern of @seed, page @first on. */
static inline bool check_pages(const void *p, size_t n, uint64_t seed,
			       size_t first, const char *what)
{
	const uint64_t *w = p;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < PG / 8; j++)
			if (w[i * (PG / 8) + j] != pattern_word(seed, first + i, j)) {
				TH_LOG("%s: page %zu word %zu: got %#" PRIx64
				       " want %#" PRIx64, what, i, j,
				       w[i * (PG / 8) + j],
				       pattern_word(seed, first + i, j));
				return false;
			}
	return true;
}

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return 0;
}

#endif /* HMM_P2P_EGPU_TEST_H */
