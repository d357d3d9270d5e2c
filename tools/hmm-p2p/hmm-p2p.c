// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm-p2p: what the hmm-p2p modules are doing, from sysfs alone.
 *
 *   hmm-p2p [status]                    modules, providers, consumer, verdict
 *   hmm-p2p stat [--json]               the counters, in total and per provider
 *   hmm-p2p stat -w SECONDS [-c COUNT] [--json]   per-second rates
 *
 * It reads /sys/kernel/hmm_p2p/ and /sys/module/<module>/ and never writes
 * anything: no root needed. The exit status says whether P2P is possible
 * (hmm-p2p.8). HMM_P2P_SYSFS_ROOT, if set, is put in front of every /sys
 * path, so that a fake tree can stand in for sysfs in tests.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef HMM_P2P_TOOL_VERSION
#define HMM_P2P_TOOL_VERSION "unknown"
#endif

/* Exit statuses, documented in hmm-p2p.8. */
#define EXIT_P2P_POSSIBLE	0
#define EXIT_P2P_IMPOSSIBLE	1
#define EXIT_NOT_LOADED		2
#define EXIT_USAGE		64	/* EX_USAGE of sysexits.h */

#define MAX_PROVIDERS	16	/* HMM_P2P_MAX_PROVIDERS in the kernel */
#define MAX_WINDOWS	32
#define NAME_LEN	64
#define TEXT_LEN	512

/* The counter files, in the kernel's order (enum hmm_p2p_counter). */
static const char *const counter_names[] = {
	"walks",
	"pages",
	"aliases",
	"fallback_unreachable",
	"fallback_refused",
	"faulted",
	"fallback_undeclared",
};

#define NR_COUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

/* The modules of the package, as /sys/module names them. */
enum { MOD_CORE, MOD_CONSUMER, MOD_NOUVEAU, MOD_GPU };
static const char *const module_names[] = {
	[MOD_CORE] = "hmm_p2p",
	[MOD_CONSUMER] = "mlx5_odp_p2p",
	[MOD_NOUVEAU] = "nouveau_p2p",
	[MOD_GPU] = "gpu_p2p",
};

#define NR_MODULES (sizeof(module_names) / sizeof(module_names[0]))
#define CONSUMER "mlx5_odp_p2p"

struct counters {
	unsigned long long v[NR_COUNTERS];
};

struct window {
	int bar;
	unsigned long long offset, size;
};

struct provider {
	char name[NAME_LEN];
	char pci[NAME_LEN];
	unsigned long long declared_pages;
	int nr_windows;			/* -1: the kernel has no windows file */
	struct window windows[MAX_WINDOWS];
	struct counters counters;
};

struct module_info {
	bool loaded;
	char version[NAME_LEN];
	char state[TEXT_LEN];		/* empty: no state parameter */
};

/* Everything one look at sysfs finds. */
struct snapshot {
	struct counters total;
	int nr_providers;
	struct provider providers[MAX_PROVIDERS];
};

static const char *sysfs_root = "";
static volatile sig_atomic_t interrupted;

/* ---- reading sysfs ----------------------------------------------------- */

/* The path of @fmt under the sysfs root (HMM_P2P_SYSFS_ROOT, or none). */
static void sysfs_path(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(buf, size, "%s", sysfs_root);
	va_list ap;

	if (n >= size)
		n = size - 1;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/*
 * @dir/@name into @buf; false if it does not fit (a path longer than
 * PATH_MAX cannot be a sysfs file of ours).
 */
static bool join_path(char *buf, size_t size, const char *dir,
		      const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < size;
}

/* A bounded copy that always terminates @dst. */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Read a whole small file, without its final newline. 0 or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int read_u64(const char *path, unsigned long long *val)
{
	char text[32], *end;

	if (read_text(path, text, sizeof(text)))
		return -1;
	errno = 0;
	*val = strtoull(text, &end, 10);
	return errno || end == text || *end ? -1 : 0;
}

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The counters of the directory @dir (totals or one provider). */
static int read_counters(const char *dir, struct counters *c)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NR_COUNTERS; i++) {
		if (!join_path(path, sizeof(path), dir, counter_names[i]) ||
		    read_u64(path, &c->v[i])) {
			fprintf(stderr, "hmm-p2p: cannot read %s\n", path);
			return -1;
		}
	}
	return 0;
}

/*
 * The provider's PCI device: the name its "device" link points to, or,
 * from a kernel without the link, the pci_device file.
 */
static void read_provider_pci(const char *dir, struct provider *p)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = join_path(path, sizeof(path), dir, "device") ?
	    readlink(path, target, sizeof(target) - 1) : -1;
	if (n > 0) {
		target[n] = '\0';
		base = strrchr(target, '/');
		copy_text(p->pci, sizeof(p->pci), base ? base + 1 : target);
		return;
	}
	if (!join_path(path, sizeof(path), dir, "pci_device") ||
	    read_text(path, p->pci, sizeof(p->pci)))
		copy_text(p->pci, sizeof(p->pci), "?");
}

/* "<bar> <offset> <size>" per line, as hmm_p2p_bar_windows_emit() writes. */
static void read_provider_windows(const char *dir, struct provider *p)
{
	char path[PATH_MAX], text[4096], *line, *save = NULL;
	struct window *w;

	p->nr_windows = 0;
	if (!join_path(path, sizeof(path), dir, "windows") ||
	    read_text(path, text, sizeof(text))) {
		p->nr_windows = -1;
		return;
	}
	for (line = strtok_r(text, "\n", &save);
	     line && p->nr_windows < MAX_WINDOWS;
	     line = strtok_r(NULL, "\n", &save)) {
		w = &p->windows[p->nr_windows];
		if (sscanf(line, "%d %llx %llx", &w->bar, &w->offset,
			   &w->size) == 3)
			p->nr_windows++;
	}
}

static int read_provider(const char *providers_dir, const char *name,
			 struct provider *p)
{
	char dir[PATH_MAX], path[PATH_MAX];

	memset(p, 0, sizeof(*p));
	copy_text(p->name, sizeof(p->name), name);
	if (!join_path(dir, sizeof(dir), providers_dir, name))
		return -1;
	read_provider_pci(dir, p);
	read_provider_windows(dir, p);
	if (!join_path(path, sizeof(path), dir, "declared_pages") ||
	    read_u64(path, &p->declared_pages))
		p->declared_pages = 0;
	return read_counters(dir, &p->counters);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The provider directories, sorted. A provider may go between the listing
 * and the reading: it is then left out, not an error.
 */
static int read_providers(struct snapshot *s)
{
	char dir[PATH_MAX], *names[MAX_PROVIDERS];
	struct dirent *de;
	int i, n = 0;
	DIR *d;

	sysfs_path(dir, sizeof(dir), "/sys/kernel/hmm_p2p/providers");
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "hmm-p2p: cannot open %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && n < MAX_PROVIDERS) {
		if (de->d_name[0] == '.')
			continue;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	s->nr_providers = 0;
	for (i = 0; i < n; i++) {
		if (!read_provider(dir, names[i],
				   &s->providers[s->nr_providers]))
			s->nr_providers++;
		free(names[i]);
	}
	return 0;
}

/*
 * Providers, then the totals: each counter is read once, so a caller can
 * bracket what is printed between two reads of its own.
 */
static int take_snapshot(struct snapshot *s)
{
	char dir[PATH_MAX];

	sysfs_path(dir, sizeof(dir), "/sys/kernel/hmm_p2p");
	if (read_providers(s))
		return -1;
	return read_counters(dir, &s->total);
}

static void read_module(const char *name, struct module_info *m)
{
	char path[PATH_MAX];

	memset(m, 0, sizeof(*m));
	sysfs_path(path, sizeof(path), "/sys/module/%s", name);
	m->loaded = path_exists(path);
	if (!m->loaded)
		return;
	sysfs_path(path, sizeof(path), "/sys/module/%s/version", name);
	if (read_text(path, m->version, sizeof(m->version)))
		snprintf(m->version, sizeof(m->version), "?");
	sysfs_path(path, sizeof(path), "/sys/module/%s/parameters/state",
		   name);
	if (read_text(path, m->state, sizeof(m->state)))
		m->state[0] = '\0';
}

/* A module parameter's value, or @fallback if it cannot be read. */
static void read_param(const char *module, const char *param, char *buf,
		       size_t size, const char *fallback)
{
	char path[PATH_MAX];

	sysfs_path(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		   param);
	if (read_text(path, buf, size))
		snprintf(buf, size, "%s", fallback);
}

/* The core is what every other piece needs: without it nothing is there. */
static bool core_loaded(void)
{
	char path[PATH_MAX];

	sysfs_path(path, sizeof(path), "/sys/kernel/hmm_p2p");
	return path_exists(path);
}

static int say_not_loaded(void)
{
	fprintf(stderr,
		"hmm-p2p: the hmm_p2p module is not loaded (/sys/kernel/hmm_p2p is missing): modprobe hmm_p2p\n");
	return EXIT_NOT_LOADED;
}

/* ---- status ------------------------------------------------------------ */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void print_modules(const struct module_info *mods)
{
	struct utsname u;
	size_t i;

	printf("modules:\n");
	for (i = 0; i < NR_MODULES; i++) {
		if (!mods[i].loaded)
			printf("  %-14s not loaded\n", module_names[i]);
		else
			printf("  %-14s %-8s %s\n", module_names[i],
			       mods[i].version,
			       mods[i].state[0] ? mods[i].state : "(no state)");
	}
	if (uname(&u) == 0)
		printf("kernel: %s\n", u.release);
}

static void print_provider(const struct provider *p, long page_size)
{
	int i;

	printf("  %s: PCI %s, %llu pages declared\n", p->name, p->pci,
	       p->declared_pages);
	if (p->nr_windows < 0)
		printf("    window: unknown (this kernel has no windows file)\n");
	else if (!p->nr_windows)
		printf("    window: none (its pages migrate)\n");
	for (i = 0; i < p->nr_windows; i++)
		printf("    window: BAR%d offset %#llx size %#llx (%llu pages)\n",
		       p->windows[i].bar, p->windows[i].offset,
		       p->windows[i].size,
		       p->windows[i].size / (unsigned long long)page_size);
}

static void print_consumer(const struct module_info *m)
{
	char enable[16], devices[128];

	printf("consumer:\n");
	if (!m->loaded) {
		printf("  %s not loaded\n", CONSUMER);
		return;
	}
	read_param(CONSUMER, "enable", enable, sizeof(enable), "?");
	read_param(CONSUMER, "devices", devices, sizeof(devices), "?");
	printf("  %s: enable=%s devices=%s\n", CONSUMER, enable, devices);
	printf("  %s\n", m->state[0] ? m->state : "(no state)");
}

/*
 * Print each reason P2P cannot happen; return how many. P2P needs the core
 * enabled, the consumer active, enabled and serving some device, and a
 * provider with a BAR window.
 */
static int print_obstacles(const struct module_info *mods,
			   const struct snapshot *s)
{
	const struct module_info *core = &mods[MOD_CORE];
	const struct module_info *consumer = &mods[MOD_CONSUMER];
	char value[128];
	int i, n = 0, with_window = 0;

	read_param("hmm_p2p", "enable", value, sizeof(value), "?");
	if (strcmp(value, "Y") != 0) {
		printf("P2P: not possible: hmm_p2p is disabled (enable=%s)\n", value);
		n++;
	}
	if (core->state[0] && !starts_with(core->state, "ready")) {
		printf("P2P: not possible: hmm_p2p: %s\n", core->state);
		n++;
	}
	if (!consumer->loaded) {
		printf("P2P: not possible: the consumer %s is not loaded\n",
		       CONSUMER);
		n++;
	} else if (!starts_with(consumer->state, "active")) {
		printf("P2P: not possible: %s is %s\n", CONSUMER,
		       consumer->state[0] ? consumer->state : "in no known state");
		n++;
	} else {
		read_param(CONSUMER, "enable", value, sizeof(value), "?");
		if (strcmp(value, "Y") != 0) {
			printf("P2P: not possible: %s is disabled (enable=%s)\n",
			       CONSUMER, value);
			n++;
		}
		read_param(CONSUMER, "devices", value, sizeof(value), "?");
		if (!strcmp(value, "none")) {
			printf("P2P: not possible: %s serves no device (devices=none)\n",
			       CONSUMER);
			n++;
		}
	}
	for (i = 0; i < s->nr_providers; i++)
		with_window += s->providers[i].nr_windows > 0;
	if (!s->nr_providers) {
		printf("P2P: not possible: no provider is registered\n");
		n++;
	} else if (!with_window) {
		printf("P2P: not possible: no provider has a BAR window\n");
		n++;
	}
	return n;
}

/* Idle providers say why in their state: show it where it matters. */
static void print_idle_providers(const struct module_info *mods)
{
	size_t i;

	for (i = MOD_NOUVEAU; i < NR_MODULES; i++)
		if (mods[i].loaded && starts_with(mods[i].state, "idle"))
			printf("note: %s is %s\n", module_names[i], mods[i].state);
}

static int cmd_status(void)
{
	struct module_info mods[NR_MODULES];
	struct snapshot s;
	long page_size = sysconf(_SC_PAGESIZE);
	size_t i;
	int j;

	if (!core_loaded())
		return say_not_loaded();
	for (i = 0; i < NR_MODULES; i++)
		read_module(module_names[i], &mods[i]);
	if (take_snapshot(&s))
		return EXIT_P2P_IMPOSSIBLE;
	if (page_size <= 0)
		page_size = 4096;

	print_modules(mods);
	printf("providers: %d\n", s.nr_providers);
	for (j = 0; j < s.nr_providers; j++)
		print_provider(&s.providers[j], page_size);
	print_consumer(&mods[MOD_CONSUMER]);
	print_idle_providers(mods);
	if (print_obstacles(mods, &s))
		return EXIT_P2P_IMPOSSIBLE;
	printf("P2P: possible\n");
	return EXIT_P2P_POSSIBLE;
}

/* ---- stat -------------------------------------------------------------- */

static void print_counters_text(const char *kind, const char *name,
				const struct counters *c)
{
	size_t i;

	printf("%s%s%s", kind, name ? " " : "", name ? name : "");
	for (i = 0; i < NR_COUNTERS; i++)
		printf(" %s %llu", counter_names[i], c->v[i]);
	printf("\n");
}

static void print_counters_json(const struct counters *c)
{
	size_t i;

	printf("{");
	for (i = 0; i < NR_COUNTERS; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", counter_names[i],
		       c->v[i]);
	printf("}");
}

/*
 * Provider names are chosen by the providers ("egpu-0000:03:00.0"); escape
 * what JSON needs escaped anyway.
 */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_snapshot_json(const struct snapshot *s)
{
	int i;

	printf("{\"total\": ");
	print_counters_json(&s->total);
	printf(", \"providers\": {");
	for (i = 0; i < s->nr_providers; i++) {
		printf("%s", i ? ", " : "");
		print_json_string(s->providers[i].name);
		printf(": ");
		print_counters_json(&s->providers[i].counters);
	}
	printf("}}\n");
}

static void print_snapshot_text(const struct snapshot *s)
{
	int i;

	print_counters_text("total", NULL, &s->total);
	for (i = 0; i < s->nr_providers; i++)
		print_counters_text("provider", s->providers[i].name,
				    &s->providers[i].counters);
}

/* Per-second rates between two reads of the same counters. */
static void rates(const struct counters *old, const struct counters *now,
		  double seconds, double *out)
{
	size_t i;

	for (i = 0; i < NR_COUNTERS; i++)
		out[i] = now->v[i] >= old->v[i] ?
			 (double)(now->v[i] - old->v[i]) / seconds : 0.0;
}

/* The provider of @name in @s, or NULL (it registered in between). */
static const struct provider *find_provider(const struct snapshot *s,
					    const char *name)
{
	int i;

	for (i = 0; i < s->nr_providers; i++)
		if (!strcmp(s->providers[i].name, name))
			return &s->providers[i];
	return NULL;
}

static void print_rates(bool json, const char *kind, const char *name,
			const double *r, bool first)
{
	size_t i;

	if (json) {
		if (name) {
			printf("%s", first ? "" : ", ");
			print_json_string(name);
			printf(": ");
		}
		printf("{");
		for (i = 0; i < NR_COUNTERS; i++)
			printf("%s\"%s\": %.3f", i ? ", " : "",
			       counter_names[i], r[i]);
		printf("}");
		return;
	}
	printf("%s%s%s", kind, name ? " " : "", name ? name : "");
	for (i = 0; i < NR_COUNTERS; i++)
		printf(" %s/s %.1f", counter_names[i], r[i]);
	printf("\n");
}

/*
 * One interval: the rates of the totals and of every provider present at
 * both ends. Text: a "total" line, then a "provider NAME" line each;
 * JSON: one object per line (JSON Lines).
 */
static void print_interval(bool json, unsigned long n, double seconds,
			   const struct snapshot *old,
			   const struct snapshot *now)
{
	double r[NR_COUNTERS];
	const struct provider *p;
	bool first = true;
	int i;

	if (json)
		printf("{\"interval\": %lu, \"seconds\": %.3f, \"total\": ",
		       n, seconds);
	rates(&old->total, &now->total, seconds, r);
	print_rates(json, "total", NULL, r, true);
	if (json)
		printf(", \"providers\": {");
	for (i = 0; i < now->nr_providers; i++) {
		p = find_provider(old, now->providers[i].name);
		if (!p)
			continue;
		rates(&p->counters, &now->providers[i].counters, seconds, r);
		print_rates(json, "provider", now->providers[i].name, r, first);
		first = false;
	}
	if (json)
		printf("}}\n");
	fflush(stdout);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Sleep @seconds unless SIGINT comes first. */
static void sleep_interval(unsigned int seconds)
{
	struct timespec ts = { .tv_sec = seconds };

	while (!interrupted && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int watch(unsigned int interval, unsigned long count, bool json)
{
	struct snapshot *old, *now, *tmp;
	struct sigaction sa = { .sa_handler = on_sigint };
	double t_old, t_now;
	unsigned long n;
	int ret = 0;

	old = malloc(sizeof(*old));
	now = malloc(sizeof(*now));
	if (!old || !now) {
		fprintf(stderr, "hmm-p2p: out of memory\n");
		free(old);
		free(now);
		return EXIT_P2P_IMPOSSIBLE;
	}
	sigaction(SIGINT, &sa, NULL);
	t_old = now_seconds();
	if (take_snapshot(old)) {
		ret = EXIT_P2P_IMPOSSIBLE;
		goto out;
	}
	if (!json)
		printf("# per-second rates every %u s\n", interval);
	for (n = 1; !count || n <= count; n++) {
		sleep_interval(interval);
		if (interrupted)
			break;
		/* The modules may go while we watch. */
		if (!core_loaded()) {
			ret = say_not_loaded();
			break;
		}
		t_now = now_seconds();
		if (take_snapshot(now)) {
			ret = EXIT_P2P_IMPOSSIBLE;
			break;
		}
		print_interval(json, n, t_now - t_old, old, now);
		tmp = old;
		old = now;
		now = tmp;
		t_old = t_now;
	}
out:
	free(old);
	free(now);
	return ret;
}

static int cmd_stat(unsigned int interval, unsigned long count, bool json)
{
	struct snapshot s;

	if (!core_loaded())
		return say_not_loaded();
	if (interval)
		return watch(interval, count, json);
	if (take_snapshot(&s))
		return EXIT_P2P_IMPOSSIBLE;
	if (json)
		print_snapshot_json(&s);
	else
		print_snapshot_text(&s);
	return 0;
}

/* ---- command line ------------------------------------------------------ */

static int print_usage(FILE *out, int status)
{
	fprintf(out,
		"usage: hmm-p2p [status]\n"
		"       hmm-p2p stat [-w SECONDS [-c COUNT]] [--json]\n"
		"       hmm-p2p --help | --version\n"
		"exit status: 0 P2P possible, 1 not possible, 2 modules not loaded, 64 usage\n");
	return status;
}

/* A positive number no larger than @max, or 0 if @arg is not one. */
static unsigned long parse_positive(const char *arg, unsigned long max)
{
	unsigned long val;
	char *end;

	errno = 0;
	val = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || val > max)
		return 0;
	return val;
}

static int parse_stat(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long interval = 0, count = 0;
	bool json = false, count_given = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+jw:c:", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'w':
			interval = parse_positive(optarg, 86400);
			if (!interval)
				return print_usage(stderr, EXIT_USAGE);
			break;
		case 'c':
			count = parse_positive(optarg, ULONG_MAX);
			count_given = true;
			if (!count)
				return print_usage(stderr, EXIT_USAGE);
			break;
		default:
			return print_usage(stderr, EXIT_USAGE);
		}
	}
	if (optind != argc || (count_given && !interval))
		return print_usage(stderr, EXIT_USAGE);
	return cmd_stat(interval, count, json);
}

int main(int argc, char **argv)
{
	const char *root = getenv("HMM_P2P_SYSFS_ROOT");
	const char *cmd = argc > 1 ? argv[1] : "status";

	if (root)
		sysfs_root = root;
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return print_usage(stdout, 0);
	if (!strcmp(cmd, "--version")) {
		printf("hmm-p2p %s\n", HMM_P2P_TOOL_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "status"))
		return argc > 2 ? print_usage(stderr, EXIT_USAGE) : cmd_status();
	if (!strcmp(cmd, "stat"))
		return parse_stat(argc - 1, argv + 1);
	fprintf(stderr, "hmm-p2p: unknown command \"%s\"\n", cmd);
	return print_usage(stderr, EXIT_USAGE);
}
