/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "GPU touch" of the benchmarks, shared by the LD_PRELOAD library and
 * the engine driver: a thread that makes the emulated GPU write a set of
 * ranges (EGPU TOUCH ioctl) at a given rate, like perftest's --gpu_touch.
 * Without a GPU (host memory) the CPU writes the ranges instead, at the
 * same rate: the host case's analogue of a busy device.
 */
#ifndef HMM_P2P_BENCH_TOUCH_H
#define HMM_P2P_BENCH_TOUCH_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "egpu_uapi.h"

#define TOUCH_MAX_RANGES 16

struct touch_range {
	void *addr;
	size_t len;
};

struct touch {
	pthread_mutex_t lock;		/* ranges */
	pthread_t thread;
	bool running;
	volatile bool stop;
	int gpu_fd;			/* -1: the CPU touches */
	double hz;
	struct touch_range range[TOUCH_MAX_RANGES];
	int nr;
	/* results */
	uint64_t touches;		/* passes over all ranges */
	uint64_t migrated;		/* pages the GPU migrated to itself */
	uint64_t errors;
};

static inline uint64_t touch_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void touch_pass(struct touch *t, uint64_t pattern)
{
	int i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++) {
		if (t->gpu_fd >= 0) {
			struct egpu_touch req = {
				.addr = (uintptr_t)t->range[i].addr,
				.len = t->range[i].len,
				.pattern = pattern,
			};

			if (ioctl(t->gpu_fd, EGPU_IOC_TOUCH, &req))
				t->errors++;
			t->migrated += req.migrated;
		} else {
			memset(t->range[i].addr, (int)(pattern & 0xff),
			       t->range[i].len);
		}
	}
	t->touches++;
	pthread_mutex_unlock(&t->lock);
}

static inline void *touch_thread(void *arg)
{
	struct touch *t = arg;
	uint64_t period = (uint64_t)(1e9 / t->hz), next = touch_now_ns();
	uint64_t pattern = 0x7a7a7a7a00000000ULL;

	while (!t->stop) {
		uint64_t now;

		touch_pass(t, pattern++);
		next += period;
		now = touch_now_ns();
		if (next <= now) {
			next = now;	/* behind: touch again at once */
		} else {
			struct timespec ts = {
				.tv_sec = next / 1000000000ULL,
				.tv_nsec = next % 1000000000ULL,
			};

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
					NULL);
		}
	}
	return NULL;
}

static inline void touch_init(struct touch *t, int gpu_fd, double hz)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->gpu_fd = gpu_fd;
	t->hz = hz;
}

static inline int touch_add(struct touch *t, void *addr, size_t len)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&t->lock);
	if (t->nr < TOUCH_MAX_RANGES) {
		t->range[t->nr].addr = addr;
		t->range[t->nr].len = len;
		t->nr++;
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Forget every range that overlaps [addr, addr + len). */
static inline void touch_remove(struct touch *t, void *addr, size_t len)
{
	int i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++) {
		char *a = t->range[i].addr;

		if (a < (char *)addr + len && (char *)addr < a + t->range[i].len) {
			t->range[i] = t->range[--t->nr];
			i--;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

static inline int touch_start(struct touch *t)
{
	if (t->running || t->hz <= 0)
		return 0;
	t->stop = false;
	if (pthread_create(&t->thread, NULL, touch_thread, t))
		return -errno;
	t->running = true;
	return 0;
}

static inline void touch_stop(struct touch *t)
{
	if (!t->running)
		return;
	t->stop = true;
	pthread_join(t->thread, NULL);
	t->running = false;
}

#endif /* HMM_P2P_BENCH_TOUCH_H */
