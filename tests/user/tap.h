/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal TAP (version 13) test harness for the hmm-p2p userspace tests.
 *
 *   TEST(name) { ... }              register a test (runs in a forked child)
 *   TEST_TIMEOUT(name, seconds)     the same with its own timeout
 *   ASSERT_EQ(a, b) ...             on failure: print, end the test
 *   EXPECT_EQ(a, b) ...             on failure: print, mark failed, go on
 *   SKIP("why %d", x)               end the test as skipped
 *   TH_LOG("fmt", ...)              a diagnostic line ("# ...")
 *   TAP_MAIN()                      main(): run all tests, or those named
 *                                   on the command line
 *
 * Each test runs in its own child process with alarm(timeout), so a crash
 * or a hang ends that test only. The exit status is 0 iff no test failed.
 */
#ifndef HMM_P2P_TAP_H
#define HMM_P2P_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_MAX_TESTS		64
#define TAP_DEFAULT_TIMEOUT	120
#define TAP_EXIT_SKIP		77

struct tap_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;
};

static struct tap_test tap_tests[TAP_MAX_TESTS];
static int tap_nr_tests;
static int tap_skip_fd = -1;	/* in the child: where SKIP() writes */
static volatile int tap_expect_failed;	/* in the child */

static inline void tap_register(const char *name, void (*fn)(void),
				unsigned int timeout)
{
	if (tap_nr_tests == TAP_MAX_TESTS) {
		fprintf(stderr, "tap.h: too many tests (max %d)\n",
			TAP_MAX_TESTS);
		exit(2);
	}
	tap_tests[tap_nr_tests++] = (struct tap_test){ name, fn, timeout };
}

#define TEST_TIMEOUT(test_name, seconds)				\
	static void test_name(void);					\
	static void __attribute__((constructor))			\
	tap_register_##test_name(void)					\
	{								\
		tap_register(#test_name, test_name, seconds);		\
	}								\
	static void test_name(void)

#define TEST(test_name) TEST_TIMEOUT(test_name, TAP_DEFAULT_TIMEOUT)

#define TH_LOG(fmt, ...)						\
	do {								\
		printf("# " fmt "\n", ##__VA_ARGS__);			\
		fflush(stdout);						\
	} while (0)

static inline void __attribute__((noreturn, format(printf, 1, 2)))
tap_skip(const char *fmt, ...)
{
	char why[256];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A test that already failed a check stays failed. */
	if (tap_expect_failed) {
		printf("# SKIP after a failed check is a failure: %s\n", why);
		fflush(stdout);
		_exit(1);
	}
	if (tap_skip_fd >= 0)
		n = write(tap_skip_fd, why, strlen(why));
	else
		n = printf("# SKIP %s\n", why);
	(void)n;
	fflush(stdout);
	_exit(TAP_EXIT_SKIP);
}

#define SKIP(fmt, ...) tap_skip(fmt, ##__VA_ARGS__)

static inline void __attribute__((noreturn)) tap_abort(void)
{
	fflush(stdout);
	_exit(1);
}

static inline void tap_cmp_failed(const char *file, int line,
				  const char *what, const char *a,
				  const char *op, const char *b,
				  long long va, long long vb)
{
	printf("# %s:%d: %s(%s, %s) failed: %s %s %s is false\n"
	       "#   %s = %lld (%#llx)\n#   %s = %lld (%#llx)\n",
	       file, line, what, a, b, a, op, b, a, va,
	       (unsigned long long)va, b, vb, (unsigned long long)vb);
	fflush(stdout);
}

/*
 * Values are evaluated once, compared with C's usual conversions (so that
 * EXPECT_EQ(unsigned_count, 4) needs no cast; mind negative values against
 * unsigned ones) and printed as long long.
 */
#define TAP_CMP(what, a, op, b, fatal)					\
	do {								\
		__typeof__(a) tap_a_ = (a);				\
		__typeof__(b) tap_b_ = (b);				\
		bool tap_ok_;						\
		_Pragma("GCC diagnostic push")				\
		_Pragma("GCC diagnostic ignored \"-Wsign-compare\"")	\
		tap_ok_ = tap_a_ op tap_b_;				\
		_Pragma("GCC diagnostic pop")				\
		if (!tap_ok_) {						\
			tap_cmp_failed(__FILE__, __LINE__, what, #a,	\
				       #op, #b, (long long)tap_a_,	\
				       (long long)tap_b_);		\
			if (fatal)					\
				tap_abort();				\
			tap_expect_failed = 1;				\
		}							\
	} while (0)

#define ASSERT_EQ(a, b) TAP_CMP("ASSERT_EQ", a, ==, b, 1)
#define ASSERT_NE(a, b) TAP_CMP("ASSERT_NE", a, !=, b, 1)
#define ASSERT_LT(a, b) TAP_CMP("ASSERT_LT", a, <, b, 1)
#define ASSERT_LE(a, b) TAP_CMP("ASSERT_LE", a, <=, b, 1)
#define ASSERT_GT(a, b) TAP_CMP("ASSERT_GT", a, >, b, 1)
#define ASSERT_GE(a, b) TAP_CMP("ASSERT_GE", a, >=, b, 1)
#define EXPECT_EQ(a, b) TAP_CMP("EXPECT_EQ", a, ==, b, 0)
#define EXPECT_NE(a, b) TAP_CMP("EXPECT_NE", a, !=, b, 0)
#define EXPECT_LT(a, b) TAP_CMP("EXPECT_LT", a, <, b, 0)
#define EXPECT_LE(a, b) TAP_CMP("EXPECT_LE", a, <=, b, 0)
#define EXPECT_GT(a, b) TAP_CMP("EXPECT_GT", a, >, b, 0)
#define EXPECT_GE(a, b) TAP_CMP("EXPECT_GE", a, >=, b, 0)

#define TAP_BOOL(what, cond, fatal)					\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: %s(%s) failed\n", __FILE__,	\
			       __LINE__, what, #cond);			\
			fflush(stdout);					\
			if (fatal)					\
				tap_abort();				\
			tap_expect_failed = 1;				\
		}							\
	} while (0)

#define ASSERT_TRUE(cond) TAP_BOOL("ASSERT_TRUE", cond, 1)
#define ASSERT_FALSE(cond) TAP_BOOL("ASSERT_FALSE", !(cond), 1)
#define EXPECT_TRUE(cond) TAP_BOOL("EXPECT_TRUE", cond, 0)
#define EXPECT_FALSE(cond) TAP_BOOL("EXPECT_FALSE", !(cond), 0)

/* Run one test in a child; 0 passed, 1 failed, 2 skipped. */
static inline int tap_run_one(const struct tap_test *t, char *why,
			      size_t whylen)
{
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	why[0] = '\0';
	if (pipe(pipefd)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		tap_skip_fd = pipefd[1];
		alarm(t->timeout);
		t->fn();
		fflush(stdout);
		_exit(tap_expect_failed ? 1 : 0);
	}
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	n = read(pipefd[0], why, whylen - 1);
	why[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);

	if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_EXIT_SKIP)
		return 2;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "%s", WTERMSIG(status) == SIGALRM ?
			 "timed out" : strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return 1;
}

static inline bool tap_selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static inline int tap_main(int argc, char **argv)
{
	int i, n = 0, nr = 0, failed = 0;
	char why[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < tap_nr_tests; i++)
		n += tap_selected(tap_tests[i].name, argc, argv);
	printf("TAP version 13\n1..%d\n", n);
	for (i = 0; i < tap_nr_tests; i++) {
		const struct tap_test *t = &tap_tests[i];

		if (!tap_selected(t->name, argc, argv))
			continue;
		nr++;
		switch (tap_run_one(t, why, sizeof(why))) {
		case 0:
			printf("ok %d - %s\n", nr, t->name);
			break;
		case 2:
			printf("ok %d - %s # SKIP %s\n", nr, t->name, why);
			break;
		default:
			if (why[0])
				printf("# %s: %s\n", t->name, why);
			printf("not ok %d - %s\n", nr, t->name);
			failed++;
		}
	}
	printf("# %d test(s), %d failed\n", n, failed);
	return failed ? 1 : 0;
}

#define TAP_MAIN()							\
	int main(int argc, char **argv)					\
	{								\
		return tap_main(argc, argv);				\
	}

#endif /* HMM_P2P_TAP_H */
