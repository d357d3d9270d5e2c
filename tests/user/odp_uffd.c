// SPDX-License-Identifier: GPL-2.0-only
/*
 * RDMA ODP over userfaultfd-registered memory, with Debian's libibverbs on
 * rdma_rxe: the hmm-p2p consumer (mlx5_odp_p2p devices=rxe) must not change
 * what the stock kernel does there, whatever that is.
 *
 * The stock semantics differ between kernels. Debian 7.3 faults ODP pages
 * through hmm_range_fault_unlocked_timeout(), which lets handle_mm_fault()
 * drop the mmap lock: a MISSING userfault then waits for the handler, and
 * a fatal signal ends that wait. Up to 7.2 ib_umem_odp faults with
 * hmm_range_fault() under the mmap lock, without FAULT_FLAG_ALLOW_RETRY, and
 * handle_userfault() fails such a fault at once (-EFAULT). The consumer
 * replaces the fault entry, so it must keep both behaviours: the tests
 * record every step with the consumer disabled and enabled and require the
 * same outcome, on 7.3 also success, and that a process blocked in such a
 * fault still dies when killed.
 *
 * Faults come from two places: the synchronous prefetch (ibv_advise_mr with
 * IB_UVERBS_ADVISE_MR_FLAG_FLUSH) faults in the calling thread; the
 * responder's faults for RDMA READ and WRITE run in rxe's work context.
 *
 * A wait of the same kind outside the fault path closes the file: an ODP
 * registration waiting in the consumer's ATS hook (ats=Y) for an mmap lock
 * held elsewhere must not make rmmod wait with it.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "tap.h"
#include "egpu_test.h"
#include "rxe_test.h"

#define NPAGES		8
#define LEN		(NPAGES * PG)
#define PREFETCH_PAGES	4	/* the rest is left to the RDMA READ */
#define SEED		0x0ffdULL	/* what the handler fills pages with */
#define SEED_WRITE	0x0ffeULL	/* what the RDMA WRITE puts there */
#define UFFD_ODP_ACCESS	(IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE)

/* ---- userfaultfd ------------------------------------------------------ */

/*
 * A userfaultfd, or -errno. Not UFFD_USER_MODE_ONLY: every fault under
 * test is a kernel one (FAULT_FLAG_REMOTE from hmm), which that mode would
 * fail at once.
 */
static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The sysctl exists where the kernel has userfaultfd (CONFIG_USERFAULTFD). */
static void uffd_or_skip(void)
{
	int fd;

	if (access("/proc/sys/vm/unprivileged_userfaultfd", F_OK))
		SKIP("no userfaultfd in this kernel");
	fd = uffd_open();
	ASSERT_GE(fd, 0);
	close(fd);
}

/* @npages fresh anonymous pages whose MISSING faults go to the result. */
static int uffd_register(void *buf, size_t npages)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)buf, .len = npages * PG },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = uffd_open();

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ioctl(fd, UFFDIO_REGISTER, &reg), 0);
	ASSERT_TRUE(reg.ioctls & (1ULL << _UFFDIO_COPY));
	return fd;
}

/* A buffer whose pages a thread fills on first touch, counting them. */
struct uffd_buf {
	uint8_t *buf;
	int uffd;
	int stop;		/* eventfd: tells the thread to return */
	uint64_t *src;		/* the page UFFDIO_COPY copies from */
	pthread_t thread;
	atomic_uint faults;	/* fault messages read */
	atomic_uint served;	/* pages filled */
	atomic_int error;	/* the thread's first unexpected errno */
};

static void uffd_error(struct uffd_buf *u, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&u->error, &none, err);
}

/* Fill the page at @addr with the pattern of SEED and its index. */
static void uffd_serve_one(struct uffd_buf *u, uintptr_t addr)
{
	size_t page = (addr - (uintptr_t)u->buf) / PG, j;
	struct uffdio_copy copy = {
		.dst = addr, .src = (uintptr_t)u->src, .len = PG,
	};

	if (page >= NPAGES) {
		uffd_error(u, ERANGE);
		return;
	}
	for (j = 0; j < PG / 8; j++)
		u->src[j] = pattern_word(SEED, page, j);
	/*
	 * Count before copying: UFFDIO_COPY wakes the faulting context, and
	 * what it completes (an RDMA READ in rxe's work context) must not be
	 * seen by the test before the count.
	 */
	atomic_fetch_add(&u->served, 1);
	while (ioctl(u->uffd, UFFDIO_COPY, &copy)) {
		struct uffdio_range range = { addr, PG };

		if (errno == EAGAIN) {	/* the mm changed under it: again */
			copy.copy = 0;
			continue;
		}
		atomic_fetch_sub(&u->served, 1);
		if (errno != EEXIST) {
			uffd_error(u, errno);
			return;
		}
		/* Already there: a failed copy wakes nobody, so wake. */
		if (ioctl(u->uffd, UFFDIO_WAKE, &range))
			uffd_error(u, errno);
		return;
	}
}

static void *uffd_thread(void *arg)
{
	struct uffd_buf *u = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = u->uffd, .events = POLLIN },
			{ .fd = u->stop, .events = POLLIN },
		};
		struct uffd_msg msg;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			uffd_error(u, errno);
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		n = read(u->uffd, &msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			uffd_error(u, errno);
			return NULL;
		}
		/* Only page faults were asked for (no UFFD_FEATURE_EVENT_*). */
		if (n != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT) {
			uffd_error(u, EPROTO);
			continue;
		}
		atomic_fetch_add(&u->faults, 1);
		uffd_serve_one(u, msg.arg.pagefault.address & ~(PG - 1));
	}
}

static void uffd_start(struct uffd_buf *u)
{
	memset(u, 0, sizeof(*u));
	u->buf = map_pages(NPAGES);
	u->src = map_pages(1);
	u->uffd = uffd_register(u->buf, NPAGES);
	u->stop = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(u->stop, 0);
	ASSERT_EQ(pthread_create(&u->thread, NULL, uffd_thread, u), 0);
}

static void uffd_stop(struct uffd_buf *u)
{
	uint64_t one = 1;

	ASSERT_EQ(write(u->stop, &one, sizeof(one)), sizeof(one));
	ASSERT_EQ(pthread_join(u->thread, NULL), 0);
	if (u->error)
		TH_LOG("userfaultfd handler: %s", strerror(u->error));
	EXPECT_EQ(atomic_load(&u->error), 0);
	close(u->stop);
	close(u->uffd);
	munmap(u->src, PG);
	munmap(u->buf, LEN);
}

/* ---- prefetch and RDMA over the buffer ------------------------------- */

/* What each step did, to compare between consumer settings. */
struct outcome {
	int prefetch;			/* 0 or -errno */
	unsigned int served_prefetch;	/* pages the handler filled for it */
	int read;			/* see post_status() */
	bool read_ok;			/* every byte read back right */
	int write;
	bool cpu_ok;			/* every byte written, CPU view */
	unsigned int served;		/* pages filled for prefetch+RDMA */
	unsigned int faults;		/* fault messages (logged only) */
};

static const char *status_str(int status)
{
	return status < 0 ? strerror(-status) :
			    ibv_wc_status_str((enum ibv_wc_status)status);
}

static void log_outcome(const char *enable, const struct outcome *o)
{
	TH_LOG("enable=%s: prefetch %d (%s), %u page(s) served",
	       enable, o->prefetch, strerror(-o->prefetch), o->served_prefetch);
	TH_LOG("enable=%s: RDMA READ %s, data %s; RDMA WRITE %s, CPU view %s",
	       enable, status_str(o->read), o->read_ok ? "right" : "wrong",
	       status_str(o->write), o->cpu_ok ? "right" : "wrong");
	TH_LOG("enable=%s: %u page(s) served in all, %u fault(s)",
	       enable, o->served, o->faults);
}

/*
 * One run with the consumer's enable=@enable, on fresh QPs (a failed step
 * leaves qa in the error state): prefetch the first pages, RDMA READ all
 * of them (the responder faults the rest), RDMA WRITE all of them.
 */
static struct outcome uffd_run(const char *enable)
{
	struct outcome o = {};
	struct rdma r = {};
	struct uffd_buf u;
	struct ibv_mr *mr;
	char what[64];

	consumer_set("enable", enable);
	rdma_setup(&r, NPAGES);
	uffd_start(&u);
	/* Registration only snapshots the range: no fault yet. */
	mr = ibv_reg_mr(r.pd, u.buf, LEN, UFFD_ODP_ACCESS);
	ASSERT_TRUE(mr);
	EXPECT_EQ(atomic_load(&u.faults), 0);

	o.prefetch = prefetch_write_sync(&r, mr, u.buf, PREFETCH_PAGES * PG);
	o.served_prefetch = atomic_load(&u.served);

	memset(r.host, 0, LEN);
	o.read = post_status(&r, IBV_WR_RDMA_READ, r.host, LEN,
			     (uintptr_t)u.buf, mr->rkey);
	snprintf(what, sizeof(what), "enable=%s: RDMA READ", enable);
	o.read_ok = check_pages(r.host, NPAGES, SEED, 0, what);

	fill_pages(r.host, NPAGES, SEED_WRITE);
	o.write = post_status(&r, IBV_WR_RDMA_WRITE, r.host, LEN,
			      (uintptr_t)u.buf, mr->rkey);
	o.served = atomic_load(&u.served);
	o.faults = atomic_load(&u.faults);
	/* Where the RDMA steps failed, this read faults the pages in. */
	snprintf(what, sizeof(what), "enable=%s: CPU view", enable);
	o.cpu_ok = check_pages(u.buf, NPAGES, SEED_WRITE, 0, what);

	EXPECT_EQ(ibv_dereg_mr(mr), 0);
	uffd_stop(&u);
	rdma_teardown(&r);
	log_outcome(enable, &o);
	return o;
}

/* The stock path on 7.3: every step done, every page served once. */
static void expect_all_done(const struct outcome *o)
{
	EXPECT_EQ(o->prefetch, 0);
	EXPECT_EQ(o->served_prefetch, PREFETCH_PAGES);
	EXPECT_EQ(o->read, IBV_WC_SUCCESS);
	EXPECT_TRUE(o->read_ok);
	EXPECT_EQ(o->write, IBV_WC_SUCCESS);
	EXPECT_TRUE(o->cpu_ok);
	EXPECT_EQ(o->served, NPAGES);
}

/*
 * Prefetch, RDMA READ and RDMA WRITE over memory whose pages a
 * userfaultfd handler provides: the same outcome with the consumer
 * disabled and enabled, and on a kernel whose stock path can wait for the
 * handler, success.
 */
TEST_TIMEOUT(odp_uffd_prefetch_and_rdma_same_with_consumer_on_and_off, 600)
{
	struct outcome off, on;
	bool waits;

	odp_or_skip();
	uffd_or_skip();
	consumer_set("devices", "rxe");

	off = uffd_run("N");
	if (off.prefetch == -EOPNOTSUPP && !tap_expect_failed)
		SKIP("%s has no advise_mr on this kernel", RXE_DEV);
	/* Anything else means the request itself was wrong. */
	if (off.prefetch && off.prefetch != -EFAULT)
		TH_LOG("stock prefetch: unexpected %s",
		       strerror(-off.prefetch));
	EXPECT_TRUE(off.prefetch == 0 || off.prefetch == -EFAULT);
	waits = !off.prefetch;
	if (waits) {
		TH_LOG("the stock path waits for the userfault handler (7.3)");
		TH_LOG("so every step must succeed, with the consumer too");
		expect_all_done(&off);
	} else {
		TH_LOG("the stock path fails userfaults at once (up to 7.2)");
		TH_LOG("so the consumer must fail alike");
	}

	if (access(CONSUMER "enable", W_OK)) {
		if (!tap_expect_failed)
			SKIP("mlx5_odp_p2p not loaded (enable=N half passed)");
		return;
	}
	on = uffd_run("Y");
	consumer_set("enable", "Y");
	EXPECT_EQ(on.prefetch, off.prefetch);
	EXPECT_EQ(on.served_prefetch, off.served_prefetch);
	EXPECT_EQ(on.read, off.read);
	EXPECT_EQ(on.read_ok, off.read_ok);
	EXPECT_EQ(on.write, off.write);
	EXPECT_EQ(on.cpu_ok, off.cpu_ok);
	EXPECT_EQ(on.served, off.served);
	if (waits)
		expect_all_done(&on);
}

/* ---- a fatal signal ends a prefetch that waits for a userfault ------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* @pid's state letter from /proc/PID/stat ('S', 'D', ...), '?' if gone. */
static char proc_state(pid_t pid)
{
	char path[64], comm[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return state;
	if (fscanf(f, "%*d (%63[^)]) %c", comm, &state) != 2)
		state = '?';
	fclose(f);
	return state;
}

/* Where a child that will not die is stuck, for the report. */
static void log_stack(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		TH_LOG("  %s", line);
	}
	fclose(f);
}

/*
 * The child: an ODP MR over userfaultfd memory nobody serves, and a
 * synchronous prefetch of all of it. It writes 'P' to @report just before
 * the prefetch and the prefetch's result after it, then waits to be killed.
 */
static void __attribute__((noreturn)) prefetch_child(int report, pid_t parent)
{
	struct rdma r = {};
	struct ibv_mr *mr;
	uint8_t *buf;
	int ret;

	/* Do not outlive the test if it times out: nobody would kill us. */
	ASSERT_EQ(prctl(PR_SET_PDEATHSIG, SIGKILL), 0);
	if (getppid() != parent)
		_exit(1);
	rdma_setup(&r, NPAGES);
	buf = map_pages(NPAGES);
	uffd_register(buf, NPAGES);	/* stays open, never read */
	mr = ibv_reg_mr(r.pd, buf, LEN, UFFD_ODP_ACCESS);
	ASSERT_TRUE(mr);
	ASSERT_EQ(write(report, "P", 1), 1);
	ret = prefetch_write_sync(&r, mr, buf, LEN);
	ASSERT_EQ(write(report, &ret, sizeof(ret)), sizeof(ret));
	for (;;)
		pause();
}

/*
 * Run a child whose prefetch waits for a userfault nobody answers, call
 * @while_blocked (if any) while it waits, then kill it: it must die.
 */
static void kill_blocked_prefetch(const char *enable,
				  void (*while_blocked)(void))
{
	struct pollfd pfd = { .events = POLLIN };
	int fds[2], status = 0, ret;
	long long deadline;
	pid_t pid, got, self = getpid();
	char c, state;

	consumer_set("enable", enable);
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(fds[0]);
		prefetch_child(fds[1], self);
	}
	close(fds[1]);
	pfd.fd = fds[0];

	/* Up to the prefetch: rxe setup is slow under TCG. */
	if (poll(&pfd, 1, 120000) != 1 || read(fds[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		TH_LOG("enable=%s: child ended before its prefetch (%#x)",
		       enable, status);
		ASSERT_TRUE(false);
	}
	sleep(1);
	state = proc_state(pid);
	if (poll(&pfd, 1, 0) == 1 && read(fds[0], &ret, sizeof(ret)) ==
	    sizeof(ret)) {
		TH_LOG("enable=%s: the prefetch returned %d (%s) at once",
		       enable, ret, strerror(-ret));
		/* The one way the stock path fails here (up to 7.2). */
		EXPECT_EQ(ret, -EFAULT);
	} else {
		TH_LOG("enable=%s: prefetch still waits after 1 s (state %c)",
		       enable, state);
		if (while_blocked)
			while_blocked();
	}
	close(fds[0]);

	ASSERT_EQ(kill(pid, SIGKILL), 0);
	deadline = now_ms() + 10000;
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
	       now_ms() < deadline)
		usleep(10000);
	if (got != pid) {
		TH_LOG("enable=%s: child %d not reaped 10 s after kill (%c):",
		       enable, pid, proc_state(pid));
		log_stack(pid);
	}
	ASSERT_EQ(got, pid);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/*
 * A process killed while its synchronous prefetch waits for a userfault
 * that never gets an answer dies, the consumer disabled and enabled.
 */
TEST_TIMEOUT(odp_uffd_fatal_signal_ends_prefetch, 600)
{
	odp_or_skip();
	uffd_or_skip();
	consumer_set("devices", "rxe");

	kill_blocked_prefetch("N", NULL);
	if (access(CONSUMER "enable", W_OK)) {
		if (!tap_expect_failed)
			SKIP("mlx5_odp_p2p not loaded (enable=N half passed)");
		return;
	}
	kill_blocked_prefetch("Y", NULL);
	consumer_set("enable", "Y");
}

/*
 * rmmod of the consumer while a prefetch waits in it: the module is in
 * use, and says so at once, instead of waiting for a fault that may never
 * end (or going away under it).
 */
static void rmmod_consumer_refused(void)
{
	long long t0 = now_ms();
	int st = system("timeout 30 rmmod mlx5_odp_p2p 2>/dev/null");

	TH_LOG("rmmod while the prefetch waits: status %#x after %lld ms", st,
	       now_ms() - t0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
		    WEXITSTATUS(st) != 124);
	EXPECT_EQ(access(CONSUMER "enable", F_OK), 0);
}

TEST_TIMEOUT(odp_uffd_rmmod_refused_while_a_prefetch_waits, 600)
{
	odp_or_skip();
	uffd_or_skip();
	if (access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	consumer_set("devices", "rxe");
	kill_blocked_prefetch("Y", rmmod_consumer_refused);
	consumer_set("enable", "Y");
}

/* ---- rmmod while a registration waits ---------------------------------- */

#define HOLD_MS		20000	/* longer than an rmmod takes under TCG */

/*
 * The child: rxe set up ('R' on @report), then, once told (a byte on @go),
 * an ODP memory region: the first mmu notifier of its address space, whose
 * registration needs the mmap lock for writing. 'P' just before it, its
 * result (1: an MR) after.
 */
static void __attribute__((noreturn)) register_child(int go, int report,
						     pid_t parent)
{
	struct rdma r = {};
	struct ibv_mr *mr;
	uint8_t *buf;
	char c;
	int ok;

	ASSERT_EQ(prctl(PR_SET_PDEATHSIG, SIGKILL), 0);
	if (getppid() != parent)
		_exit(1);
	rdma_setup(&r, NPAGES);
	buf = map_pages(NPAGES);
	ASSERT_EQ(write(report, "R", 1), 1);
	ASSERT_EQ(read(go, &c, 1), 1);
	ASSERT_EQ(write(report, "P", 1), 1);
	mr = ibv_reg_mr(r.pd, buf, LEN, UFFD_ODP_ACCESS);
	ok = !!mr;
	ASSERT_EQ(write(report, &ok, sizeof(ok)), sizeof(ok));
	for (;;)
		pause();
}

struct mm_hold {
	int fd;
	struct egpu_hold_mm req;
	int ret;
};

/*
 * The holder takes no signal: the SIGCHLD of rmmod's shell, which system()
 * blocks in its own thread only, would otherwise end the hold early.
 */
static void *mm_hold_thread(void *arg)
{
	struct mm_hold *h = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	h->ret = egpu_ioctl(h->fd, EGPU_IOC_HOLD_MM, &h->req);
	return NULL;
}

/* Wait up to 10 s for @pid to sleep uninterruptibly (state D). */
static bool wait_state_d(pid_t pid)
{
	long long deadline = now_ms() + 10000;

	while (now_ms() < deadline) {
		if (proc_state(pid) == 'D')
			return true;
		usleep(10000);
	}
	return false;
}

static bool consumer_ats(void)
{
	char v = 0;
	FILE *f = fopen(CONSUMER "ats", "r");

	if (!f)
		return false;
	if (fscanf(f, "%c", &v) != 1)
		v = 0;
	fclose(f);
	return v == 'Y';
}

/*
 * rmmod of the consumer while an ODP registration waits in its ATS hook
 * (ats=Y hooks ib_umem_odp_get()) for an mmap lock that another task holds
 * as long as it likes (HOLD_MM stands for a fault stuck on a file whose
 * server never answers): the module is in use and says so at once, instead
 * of waiting, unkillable, for a lock an unprivileged user decides about.
 */
TEST_TIMEOUT(odp_rmmod_refused_while_a_registration_waits, 600)
{
	struct pollfd pfd = { .events = POLLIN };
	struct mm_hold h = { .req.ms = HOLD_MS };
	int go[2], report[2], status = 0, ok;
	pid_t pid, got, self = getpid();
	long long deadline;
	pthread_t holder;
	char c;

	odp_or_skip();
	if (access(CONSUMER "enable", W_OK))
		RIG_MISSING(rig_has("HMM_P2P_RIG_CONSUMER"),
			    "mlx5_odp_p2p is not loaded");
	if (!consumer_ats())
		RIG_MISSING(rig_has("HMM_P2P_RIG_ATS"),
			    "mlx5_odp_p2p is loaded without ats=Y (no registration hook)");
	consumer_set("devices", "rxe");
	h.fd = egpu_open_or_skip(0);
	ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
	ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(go[1]);
		close(report[0]);
		register_child(go[0], report[1], self);
	}
	close(go[0]);
	close(report[1]);
	pfd.fd = report[0];
	/* Up to the registration: rxe setup is slow under TCG. */
	ASSERT_EQ(poll(&pfd, 1, 120000), 1);
	ASSERT_EQ(read(report[0], &c, 1), 1);
	h.req.pid = pid;
	ASSERT_EQ(pthread_create(&holder, NULL, mm_hold_thread, &h), 0);
	usleep(500000);	/* the holder takes the child's mmap lock */
	ASSERT_EQ(write(go[1], "G", 1), 1);
	ASSERT_EQ(poll(&pfd, 1, 10000), 1);
	ASSERT_EQ(read(report[0], &c, 1), 1);
	if (!wait_state_d(pid) ||
	    (poll(&pfd, 1, 0) == 1 &&
	     read(report[0], &ok, sizeof(ok)) == sizeof(ok))) {
		TH_LOG("the registration did not wait for the held lock (state %c)",
		       proc_state(pid));
		EXPECT_TRUE(false);
	} else {
		TH_LOG("the registration waits (state D), in:");
		log_stack(pid);
		rmmod_consumer_refused();
	}
	close(go[1]);
	close(report[0]);
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(pthread_join(holder, NULL), 0);
	EXPECT_EQ(h.ret, 0);
	deadline = now_ms() + 30000;
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
	       now_ms() < deadline)
		usleep(10000);
	if (got != pid) {
		TH_LOG("child %d not reaped 30 s after the hold (%c):", pid,
		       proc_state(pid));
		log_stack(pid);
	}
	ASSERT_EQ(got, pid);
	close(h.fd);
}

TAP_MAIN()
