// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_bench: drives the NIC-speed engine (/dev/hmm_p2p_engine) and
 * reads the emulated GPU's counters, for tests/bench/run-bench. Every
 * command prints one line of key=value pairs.
 *
 *   hmm_p2p_bench engine host|stock|p2p SIZE [--buf BYTES] [--ms MS]
 *		[--msgs N] [--touch HZ] [--dir write|read] [--gpu N]
 *	runs for MS milliseconds (default 300; 0: no limit) or N messages
 *	of SIZE bytes (default: no limit), whichever comes first;
 *	host:  the buffer stays in RAM; the engine resolves it with
 *	       hmm_p2p_range_fault() (touch: the CPU writes it);
 *	stock: the buffer is migrated into GPU N first; the engine resolves
 *	       it with hmm_range_fault(), which migrates pages back to RAM
 *	       (touch: the GPU writes it with TOUCH, migrating them back);
 *	p2p:   the same buffer, resolved with hmm_p2p_range_fault(): the
 *	       engine copies through the P2PDMA aliases.
 *   hmm_p2p_bench faultbench [--buf BYTES] [--reps N] [--scatter BYTES]
 *	the fault path over system RAM: hmm_p2p_range_fault() against
 *	hmm_range_fault(), medians of interleaved pairs. --scatter frees
 *	every other page of a region of that size first, subsection after
 *	subsection in turn, so that the buffer's pages come from all over it
 *	(as on a machine that has run for a while).
 *   hmm_p2p_bench copybench SIZE [--buf BYTES] [--reps N] [--dir write|read]
 *		[--gpu N]
 *	the engine's copy loop alone, message by message: a buffer in system
 *	RAM against one in GPU N's memory copied through its P2PDMA aliases,
 *	medians of interleaved pairs.
 *   hmm_p2p_bench counters [--gpu N]
 *	the GPU's migration counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_touch.h"
#include "engine_uapi.h"

#define PG 4096UL

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hmm_p2p_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

struct opts {
	uint64_t buf;
	unsigned int ms;
	uint64_t msgs;		/* 0: no limit */
	double touch_hz;
	unsigned int dir;
	int gpu;
	unsigned int reps;
	uint64_t scatter;	/* faultbench: bytes freed page by page first */
};

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K':
		v <<= 10;
		break;
	case 'm': case 'M':
		v <<= 20;
		break;
	case '\0':
		break;
	default:
		die("bad size '%s'", s);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("option %s needs a value", a);
		if (!strcmp(a, "--buf"))
			o->buf = parse_size(v);
		else if (!strcmp(a, "--ms"))
			o->ms = atoi(v);
		else if (!strcmp(a, "--msgs"))
			o->msgs = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--touch"))
			o->touch_hz = atof(v);
		else if (!strcmp(a, "--dir"))
			o->dir = !strcmp(v, "read") ? ENGINE_DIR_READ : ENGINE_DIR_WRITE;
		else if (!strcmp(a, "--gpu"))
			o->gpu = atoi(v);
		else if (!strcmp(a, "--reps"))
			o->reps = atoi(v);
		else if (!strcmp(a, "--scatter"))
			o->scatter = parse_size(v);
		else
			die("unknown option %s", a);
		i++;
	}
}

static int open_gpu(int n)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/hmm_p2p_egpu%d", n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s (is hmm_p2p_egpu loaded?)", path, strerror(errno));
	return fd;
}

static int open_engine(void)
{
	int fd = open("/dev/hmm_p2p_engine", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/hmm_p2p_engine: %s (is hmm_p2p_engine loaded?)",
		    strerror(errno));
	return fd;
}

static struct egpu_counters gpu_counters(int fd)
{
	struct egpu_counters c;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, EGPU_IOC_COUNTERS, &c))
		die("COUNTERS: %s", strerror(errno));
	return c;
}

static uint64_t sysfs_u64(const char *name)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/hmm_p2p/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void *map_buffer(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %" PRIu64 ": %s", len, strerror(errno));
	/* 4 KiB pages, as device-private memory has. */
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x3c, len);
	return p;
}

static int cmd_engine(int argc, char **argv)
{
	struct opts o = { .buf = 4 << 20, .ms = 300, .gpu = 0 };
	struct egpu_counters c0, c1;
	uint64_t a0, f0, w0, to_ram, to_dev;
	struct engine_run r;
	const char *kase;
	int gpu, eng, ret;
	struct touch t;
	double sec, mib;
	void *buf;

	if (argc < 2)
		die("usage: engine host|stock|p2p SIZE [options]");
	kase = argv[0];
	memset(&r, 0, sizeof(r));
	r.msg_size = parse_size(argv[1]);
	parse_opts(argc - 2, argv + 2, &o);
	if (strcmp(kase, "host") && strcmp(kase, "stock") && strcmp(kase, "p2p"))
		die("unknown case %s", kase);
	if (o.buf < r.msg_size)
		o.buf = r.msg_size;

	gpu = open_gpu(o.gpu);
	eng = open_engine();
	buf = map_buffer(o.buf);
	if (strcmp(kase, "host")) {
		struct egpu_migrate m = { (uintptr_t)buf, o.buf, 0, 0 };

		if (ioctl(gpu, EGPU_IOC_MIGRATE_TO_DEV, &m))
			die("MIGRATE_TO_DEV: %s", strerror(errno));
		if (m.moved != o.buf / PG)
			die("only %llu of %" PRIu64 " pages went into VRAM",
			    (unsigned long long)m.moved, o.buf / PG);
	}
	touch_init(&t, strcmp(kase, "host") ? gpu : -1, o.touch_hz);
	touch_add(&t, buf, o.buf);

	r.addr = (uintptr_t)buf;
	r.len = o.buf;
	r.max_msgs = o.msgs ? o.msgs : ~0ULL;
	r.max_ms = o.ms;
	if (!r.max_ms && !o.msgs)
		die("--ms 0 needs --msgs");
	r.mode = strcmp(kase, "stock") ? ENGINE_MODE_P2P : ENGINE_MODE_STOCK;
	r.dir = o.dir;

	c0 = gpu_counters(gpu);
	a0 = sysfs_u64("aliases");
	f0 = sysfs_u64("faulted");
	w0 = sysfs_u64("walks");
	if (touch_start(&t))
		die("touch thread: %s", strerror(errno));
	ret = ioctl(eng, ENGINE_IOC_RUN, &r);
	ret = ret ? -errno : 0;
	touch_stop(&t);
	c1 = gpu_counters(gpu);
	if (ret)
		die("RUN: %s", strerror(-ret));

	sec = r.ns / 1e9;
	mib = r.bytes / 1048576.0;
	to_ram = c1.migrate_to_ram_fault - c0.migrate_to_ram_fault;
	to_dev = c1.migrate_to_dev - c0.migrate_to_dev;
	printf("tool=engine test=engine_%s case=%s size=%" PRIu64 " touch_hz=%g",
	       o.dir == ENGINE_DIR_READ ? "read" : "write", kase,
	       (uint64_t)r.msg_size, o.touch_hz);
	printf(" bytes=%llu sec=%.6f mib_s=%.1f mpps=%.4f msgs=%llu",
	       (unsigned long long)r.bytes, sec, sec > 0 ? mib / sec : 0,
	       sec > 0 ? r.msgs / sec / 1e6 : 0, (unsigned long long)r.msgs);
	printf(" faults=%llu fault_pages=%llu fault_ms=%.3f retries=%llu",
	       (unsigned long long)r.faults, (unsigned long long)r.fault_pages,
	       r.fault_ns / 1e6, (unsigned long long)r.retries);
	printf(" invalidations=%llu p2p_pages=%llu",
	       (unsigned long long)r.invalidations,
	       (unsigned long long)r.p2p_pages);
	printf(" to_ram=%llu to_dev=%llu migrations=%llu migr_per_mib=%.2f touches=%llu",
	       (unsigned long long)to_ram, (unsigned long long)to_dev,
	       (unsigned long long)(to_ram + to_dev),
	       mib > 0 ? (to_ram + to_dev) / mib : 0,
	       (unsigned long long)t.touches);
	printf(" hmm_p2p_walks=%" PRIu64 " hmm_p2p_aliases=%" PRIu64
	       " hmm_p2p_faulted=%" PRIu64 "\n",
	       sysfs_u64("walks") - w0, sysfs_u64("aliases") - a0,
	       sysfs_u64("faulted") - f0);
	munmap(buf, o.buf);
	close(eng);
	close(gpu);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * How the buffer's pages lie in physical memory: the number of runs of
 * consecutive pages in one 2 MiB subsection, and of distinct 128 MiB
 * sections (x86_64), read from /proc/self/pagemap (pfns need root; 0 and
 * 0 when they cannot be read). The fault path tells plain memory apart by
 * looking at mem_section: once per subsection run before 819af6f, once per
 * section and walk since (docs/benchmarks.md, "Fault overhead").
 */
static void buffer_layout(const void *buf, uint64_t len, unsigned long *runs,
			  unsigned long *sections)
{
	uint64_t i, n = len / PG, prev_sub = UINT64_MAX;
	uint64_t *e = calloc(n, sizeof(*e));
	int fd = open("/proc/self/pagemap", O_RDONLY);

	*runs = 0;
	*sections = 0;
	if (fd < 0 || !e ||
	    pread(fd, e, n * sizeof(*e), (uintptr_t)buf / PG * sizeof(*e)) !=
	    (ssize_t)(n * sizeof(*e)))
		n = 0;
	for (i = 0; i < n; i++) {
		uint64_t pfn = e[i] & ((1ULL << 55) - 1);

		if (!(e[i] >> 63) || !pfn)
			break;
		if (pfn >> 9 != prev_sub)
			(*runs)++;
		prev_sub = pfn >> 9;
		e[i] = pfn >> 15;
	}
	if (n && i == n) {
		qsort(e, n, sizeof(*e), cmp_u64);
		for (i = 0; i < n; i++)
			*sections += !i || e[i] != e[i - 1];
	} else {
		*runs = 0;
	}
	if (fd >= 0)
		close(fd);
	free(e);
}

/*
 * Map @len bytes, populate them, then free every other page, one page of
 * each 2 MiB subsection in turn: the allocator hands freed pages out
 * latest first, so a buffer populated next gets pages from every
 * subsection of the region, in turn. The rest stays mapped (the caller
 * unmaps it) so that freed pages cannot merge back into large blocks.
 */
static void *scatter_free_pages(uint64_t len)
{
	uint64_t n = len / PG, per_sub = 512, nsub = n / per_sub, k;
	char *p;

	if (!nsub)
		die("--scatter needs at least 2M");
	p = map_buffer(nsub * per_sub * PG);
	for (k = 0; k < nsub * per_sub / 2; k++) {
		uint64_t page = (k % nsub) * per_sub + (k / nsub) * 2;

		if (madvise(p + page * PG, PG, MADV_DONTNEED))
			die("madvise: %s", strerror(errno));
	}
	return p;
}

static int cmd_faultbench(int argc, char **argv)
{
	unsigned long runs, sections;
	void *scattered = NULL;
	struct opts o = { .buf = 4 << 20, .reps = 501 };
	struct engine_fault_bench b;
	double pages;
	void *buf;
	int eng;

	parse_opts(argc, argv, &o);
	eng = open_engine();
	if (o.scatter)
		scattered = scatter_free_pages(o.scatter);
	buf = map_buffer(o.buf);
	memset(&b, 0, sizeof(b));
	b.addr = (uintptr_t)buf;
	b.len = o.buf;
	b.reps = o.reps;
	if (ioctl(eng, ENGINE_IOC_FAULT_BENCH, &b))
		die("FAULT_BENCH: %s", strerror(errno));
	pages = o.buf / PG;
	printf("tool=faultbench pages=%.0f reps=%u", pages, o.reps);
	printf(" fault_p2p_ns_per_page=%.2f fault_stock_ns_per_page=%.2f",
	       b.p2p_ns_median / pages, b.stock_ns_median / pages);
	printf(" fault_ratio=%.4f fault_ratio_of_medians=%.4f",
	       b.ratio_ppm_median / 1e6,
	       b.stock_ns_median ? (double)b.p2p_ns_median / b.stock_ns_median : 0);
	buffer_layout(buf, o.buf, &runs, &sections);
	printf(" p2p_min_ns_per_page=%.2f stock_min_ns_per_page=%.2f retries=%llu",
	       b.p2p_ns_min / pages, b.stock_ns_min / pages,
	       (unsigned long long)b.retries);
	printf(" subsection_runs=%lu sections=%lu\n", runs, sections);
	munmap(buf, o.buf);
	if (scattered)
		munmap(scattered, o.scatter / PG / 512 * 512 * PG);
	close(eng);
	return 0;
}

static int cmd_copybench(int argc, char **argv)
{
	struct opts o = { .buf = 4 << 20, .reps = 201, .gpu = 0 };
	struct egpu_migrate m;
	struct engine_copy_bench b;
	void *ram, *dev;
	double mib;
	int gpu, eng;

	if (argc < 1)
		die("usage: copybench SIZE [options]");
	memset(&b, 0, sizeof(b));
	b.msg_size = parse_size(argv[0]);
	parse_opts(argc - 1, argv + 1, &o);
	if (o.buf < b.msg_size)
		o.buf = b.msg_size;
	gpu = open_gpu(o.gpu);
	eng = open_engine();
	ram = map_buffer(o.buf);
	dev = map_buffer(o.buf);
	m = (struct egpu_migrate){ (uintptr_t)dev, o.buf, 0, 0 };
	if (ioctl(gpu, EGPU_IOC_MIGRATE_TO_DEV, &m))
		die("MIGRATE_TO_DEV: %s", strerror(errno));
	if (m.moved != o.buf / PG)
		die("only %llu of %" PRIu64 " pages went into VRAM",
		    (unsigned long long)m.moved, o.buf / PG);
	b.ram_addr = (uintptr_t)ram;
	b.gpu_addr = (uintptr_t)dev;
	b.len = o.buf;
	b.reps = o.reps;
	b.dir = o.dir;
	if (ioctl(eng, ENGINE_IOC_COPY_BENCH, &b))
		die("COPY_BENCH: %s", strerror(errno));
	/* Without every page an alias, the pair would compare RAM with RAM. */
	if (b.gpu_alias_pages < o.buf / PG || b.ram_alias_pages)
		die("COPY_BENCH: %llu of %" PRIu64
		    " GPU pages were aliases, %llu RAM pages (no provider?)",
		    (unsigned long long)b.gpu_alias_pages, o.buf / PG,
		    (unsigned long long)b.ram_alias_pages);
	mib = b.msg_size / 1048576.0;
	printf("tool=copybench test=copy_%s size=%llu reps=%u",
	       o.dir == ENGINE_DIR_READ ? "read" : "write",
	       (unsigned long long)b.msg_size, o.reps);
	printf(" ram_ns=%llu gpu_ns=%llu ram_mib_s=%.1f gpu_mib_s=%.1f",
	       (unsigned long long)b.ram_ns_median,
	       (unsigned long long)b.gpu_ns_median,
	       b.ram_ns_median ? mib / (b.ram_ns_median / 1e9) : 0,
	       b.gpu_ns_median ? mib / (b.gpu_ns_median / 1e9) : 0);
	printf(" gpu_vs_ram=%.4f retries=%llu\n", b.ratio_ppm_median / 1e6,
	       (unsigned long long)b.retries);
	munmap(dev, o.buf);
	munmap(ram, o.buf);
	close(eng);
	close(gpu);
	return 0;
}

static int cmd_counters(int argc, char **argv)
{
	struct opts o = { .gpu = 0 };
	struct egpu_counters c;
	int gpu;

	parse_opts(argc, argv, &o);
	gpu = open_gpu(o.gpu);
	c = gpu_counters(gpu);
	printf("to_dev=%llu to_ram_fault=%llu to_ram_ioctl=%llu",
	       (unsigned long long)c.migrate_to_dev,
	       (unsigned long long)c.migrate_to_ram_fault,
	       (unsigned long long)c.migrate_to_ram_ioctl);
	printf(" touch_pages=%llu dev_pages_in_use=%llu\n",
	       (unsigned long long)c.touch_pages,
	       (unsigned long long)c.dev_pages_in_use);
	close(gpu);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: hmm_p2p_bench engine|faultbench|copybench|counters ...");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "engine"))
		return cmd_engine(argc - 2, argv + 2);
	if (!strcmp(argv[1], "faultbench"))
		return cmd_faultbench(argc - 2, argv + 2);
	if (!strcmp(argv[1], "copybench"))
		return cmd_copybench(argc - 2, argv + 2);
	if (!strcmp(argv[1], "counters"))
		return cmd_counters(argc - 2, argv + 2);
	die("unknown command %s", argv[1]);
}
