/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the RDMA ODP tests (odp_*.c): Debian's libibverbs on
 * rdma_rxe (RoCE on lo, the only network they use) and the parameters of
 * the hmm-p2p consumer, mlx5_odp_p2p.
 *
 * One process, two RC QPs connected to each other: qa is the requester,
 * qb the responder whose memory region is under test; qa's local buffer is
 * pinned host memory. Needs an rxe device named rxe_lo on lo and, for the
 * consumer, mlx5_odp_p2p devices=rxe (tests/vm/run-suite sets them up).
 */
#ifndef HMM_P2P_RXE_TEST_H
#define HMM_P2P_RXE_TEST_H

#include <infiniband/verbs.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <sys/ioctl.h>

#include "tap.h"
#include "egpu_test.h"

#define RXE_DEV		"rxe_lo"
#define CONSUMER	"/sys/module/mlx5_odp_p2p/parameters/"

/* Polls of the CQ before a completion counts as lost (about 30 s). */
#define RXE_WC_POLLS	30000000L

struct rdma {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qa, *qb;
	union ibv_gid gid;
	int gid_index;
	struct ibv_mr *host_mr;	/* qa's local buffer, host memory, pinned */
	void *host;
	size_t host_len;
};

static inline struct ibv_context *open_rxe(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), RXE_DEV))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

/* The RoCEv2 GID of 127.0.0.1 (::ffff:127.0.0.1). */
static inline int find_loopback_gid(struct rdma *r)
{
	static const uint8_t v4_lo[16] = { [10] = 0xff, [11] = 0xff,
					    [12] = 127, [15] = 1 };
	struct ibv_port_attr port;
	int i;

	if (ibv_query_port(r->ctx, 1, &port))
		return -1;
	for (i = 0; i < port.gid_tbl_len; i++) {
		if (ibv_query_gid(r->ctx, 1, i, &r->gid))
			continue;
		if (!memcmp(r->gid.raw, v4_lo, 16)) {
			r->gid_index = i;
			return 0;
		}
	}
	return -1;
}

static inline struct ibv_qp *create_qp(struct rdma *r)
{
	struct ibv_qp_init_attr attr = {
		.send_cq = r->cq, .recv_cq = r->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(r->pd, &attr);
}

static inline int connect_qp(struct rdma *r, struct ibv_qp *qp,
			     uint32_t remote)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	/*
	 * One packet per page: Debian 7.3's rxe ODP copy (__rxe_odp_mr_copy)
	 * ignores the offset inside the page, so a packet that does not start
	 * on a page boundary lands at the page's start (docs/rxe-odp-bug.md).
	 * With 4096-byte packets on page-aligned buffers every byte is placed
	 * right, on the stock path as with hmm-p2p.
	 */
	a.path_mtu = IBV_MTU_4096;
	a.dest_qp_num = remote;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = r->gid;
	a.ah_attr.grh.sgid_index = r->gid_index;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* Device, PD, CQ, qa and qb connected, @npages of pinned host memory. */
static inline void rdma_setup(struct rdma *r, size_t npages)
{
	r->ctx = open_rxe();
	if (!r->ctx)
		RIG_MISSING(rig_has("HMM_P2P_RIG_RXE"),
			    "no rdma device %s (rdma_rxe on lo)", RXE_DEV);
	ASSERT_EQ(find_loopback_gid(r), 0);
	r->pd = ibv_alloc_pd(r->ctx);
	ASSERT_TRUE(r->pd);
	r->cq = ibv_create_cq(r->ctx, 64, NULL, NULL, 0);
	ASSERT_TRUE(r->cq);
	r->qa = create_qp(r);
	r->qb = create_qp(r);
	ASSERT_TRUE(r->qa && r->qb);
	ASSERT_EQ(connect_qp(r, r->qa, r->qb->qp_num), 0);
	ASSERT_EQ(connect_qp(r, r->qb, r->qa->qp_num), 0);
	r->host_len = npages * PG;
	r->host = map_pages(npages);
	r->host_mr = ibv_reg_mr(r->pd, r->host, r->host_len,
				IBV_ACCESS_LOCAL_WRITE);
	ASSERT_TRUE(r->host_mr);
}

/*
 * Undo rdma_setup(), for a program that needs a fresh pair of QPs (one
 * that went to the error state cannot be reused). The caller deregisters
 * its own MRs first: the PD refuses to go while one is left.
 */
static inline void rdma_teardown(struct rdma *r)
{
	EXPECT_EQ(ibv_dereg_mr(r->host_mr), 0);
	EXPECT_EQ(munmap(r->host, r->host_len), 0);
	EXPECT_EQ(ibv_destroy_qp(r->qa), 0);
	EXPECT_EQ(ibv_destroy_qp(r->qb), 0);
	EXPECT_EQ(ibv_destroy_cq(r->cq), 0);
	EXPECT_EQ(ibv_dealloc_pd(r->pd), 0);
	EXPECT_EQ(ibv_close_device(r->ctx), 0);
	memset(r, 0, sizeof(*r));
}

/*
 * Poll one completion into @wc; false when none came within *@budget
 * polls. The budget is the caller's so that wait_wc() spends one for all
 * the completions it waits for.
 */
static inline bool poll_wc(struct rdma *r, struct ibv_wc *wc, long *budget)
{
	while (*budget > 0) {
		int got = ibv_poll_cq(r->cq, 1, wc);

		(*budget)--;
		ASSERT_GE(got, 0);
		if (got)
			return true;
		usleep(1);
	}
	return false;
}

/* Wait for @n successful completions (30 s at most). */
static inline void wait_wc(struct rdma *r, int n)
{
	long budget = RXE_WC_POLLS;
	struct ibv_wc wc;

	for (; n && poll_wc(r, &wc, &budget); n--) {
		if (wc.status != IBV_WC_SUCCESS)
			TH_LOG("completion: %s (opcode %d)",
			       ibv_wc_status_str(wc.status), wc.opcode);
		ASSERT_EQ(wc.status, IBV_WC_SUCCESS);
	}
	ASSERT_EQ(n, 0);
}

/*
 * qa posts one signaled RDMA operation against qb's memory @raddr/@rkey;
 * ibv_post_send()'s result (0 or an errno value).
 */
static inline int post_wr(struct rdma *r, enum ibv_wr_opcode op, void *local,
			  size_t len, uint64_t raddr, uint32_t rkey,
			  uint64_t add, uint64_t swap)
{
	struct ibv_sge sge = { (uintptr_t)local, len, r->host_mr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = op,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_send_wr *bad;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD ||
	    op == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = add;
		wr.wr.atomic.swap = swap;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(r->qa, &wr, &bad);
}

/* post_wr() that must succeed, and its completion too. */
static inline void post(struct rdma *r, enum ibv_wr_opcode op, void *local,
			size_t len, uint64_t raddr, uint32_t rkey, uint64_t add,
			uint64_t swap)
{
	ASSERT_EQ(post_wr(r, op, local, len, raddr, rkey, add, swap), 0);
	wait_wc(r, 1);
}

/*
 * post_wr() for a test that records how an operation ended instead of
 * requiring success: the completion's status (enum ibv_wc_status), -errno
 * when the post fails, -ETIMEDOUT when nothing completes.
 */
static inline int post_status(struct rdma *r, enum ibv_wr_opcode op,
			      void *local, size_t len, uint64_t raddr,
			      uint32_t rkey)
{
	long budget = RXE_WC_POLLS;
	struct ibv_wc wc;
	int ret;

	ret = post_wr(r, op, local, len, raddr, rkey, 0, 0);
	if (ret)
		return -ret;
	if (!poll_wc(r, &wc, &budget))
		return -ETIMEDOUT;
	return wc.status;
}

/* rdma_rxe has ODP from Linux 6.15 on (commit d03fb5c6599e). */
static inline void odp_or_skip(void)
{
	struct ibv_device_attr_ex attr = {};
	struct ibv_context *ctx = open_rxe();

	if (!ctx)
		RIG_MISSING(rig_has("HMM_P2P_RIG_RXE"),
			    "no rdma device %s (rdma_rxe on lo)", RXE_DEV);
	ASSERT_EQ(ibv_query_device_ex(ctx, NULL, &attr), 0);
	ibv_close_device(ctx);
	if (!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT))
		RIG_MISSING(!strcmp(getenv("HMM_P2P_RIG_RXE") ?: "", "odp"),
			    "%s has no ODP on this kernel", RXE_DEV);
}

#define ODP_ACCESS (IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |     \
		    IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | \
		    IBV_ACCESS_REMOTE_ATOMIC)

/*
 * @npages filled with @seed, moved into GPU @fd's memory (host memory if
 * @fd < 0), with an ODP MR over them in *@mr.
 */
static inline void *odp_gpu_buffer(struct rdma *r, int fd, size_t npages,
				   uint64_t seed, struct ibv_mr **mr)
{
	void *g = map_pages(npages);

	fill_pages(g, npages, seed);
	if (fd >= 0)
		ASSERT_EQ(egpu_migrate(fd, true, g, npages * PG, NULL), 0);
	*mr = ibv_reg_mr(r->pd, g, npages * PG, ODP_ACCESS);
	if (!*mr && errno == EOPNOTSUPP)
		RIG_MISSING(!strcmp(getenv("HMM_P2P_RIG_RXE") ?: "", "odp"),
			    "%s has no ODP on this kernel", RXE_DEV);
	ASSERT_TRUE(*mr);
	return g;
}

/*
 * Configure the consumer; a no-op when it is not loaded, or when the
 * suite's mutation pass holds it disabled (HMM_P2P_CONSUMER_LOCKED).
 */
static inline void consumer_set(const char *param, const char *val)
{
	char path[128];

	if (rig_has("HMM_P2P_CONSUMER_LOCKED"))
		return;
	snprintf(path, sizeof(path), CONSUMER "%s", param);
	if (access(path, W_OK))
		return;
	ASSERT_EQ(write_file(path, val), 0);
}

/* ---- ibv_advise_mr() by hand ---------------------------------------- */

/*
 * ibv_advise_mr(@advice, FLUSH) over @len bytes of @mr from @addr:
 * 0 or -errno. Debian's rdma-core 56 has no advise_mr for rxe (it answers
 * EOPNOTSUPP without asking the kernel), so this issues the uverbs ioctl
 * the way libibverbs' ibv_cmd_advise_mr() does. The method lives on the
 * MR object (DECLARE_UVERBS_NAMED_OBJECT(UVERBS_OBJECT_MR, ...) in
 * uverbs_std_types_mr.c); the PD is its first attribute. Encoding, per
 * uverbs_process_attr(): an object handle goes in data with len 0; a
 * CONST_IN or FLAGS_IN value goes inline in data with len 8; a PTR_IN
 * longer than 8 bytes (the SGE array) is a pointer in data and its length.
 * Each is UVERBS_ATTR_F_MANDATORY, as libibverbs sends them: a kernel that
 * did not know one would fail the call rather than ignore it (a dropped
 * FLAGS would make the prefetch asynchronous without a word).
 */
#define ADVISE_ATTRS	4

static inline int prefetch_sync(struct rdma *r, struct ibv_mr *mr, void *addr,
				size_t len, uint64_t advice)
{
	struct ib_uverbs_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = mr->lkey,
	};
	union {
		struct ib_uverbs_ioctl_hdr hdr;
		uint8_t raw[sizeof(struct ib_uverbs_ioctl_hdr) +
			    ADVISE_ATTRS * sizeof(struct ib_uverbs_attr)];
	} cmd;
	struct ib_uverbs_attr *a = cmd.hdr.attrs;
	int i;

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd.raw);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = ADVISE_ATTRS;
	/* ib_uverbs_cmd_verbs() refuses any driver_id but the device's. */
	cmd.hdr.driver_id = RDMA_DRIVER_RXE;
	for (i = 0; i < ADVISE_ATTRS; i++)
		a[i].flags = UVERBS_ATTR_F_MANDATORY;
	a[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	a[0].data = r->pd->handle;
	a[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	a[1].len = sizeof(uint64_t);
	a[1].data = advice;
	a[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	a[2].len = sizeof(uint64_t);
	a[2].data = IB_UVERBS_ADVISE_MR_FLAG_FLUSH;
	a[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	a[3].len = sizeof(sge);
	a[3].data = (uintptr_t)&sge;
	return ioctl(r->ctx->cmd_fd, RDMA_VERBS_IOCTL, &cmd) ? -errno : 0;
}

static inline int prefetch_write_sync(struct rdma *r, struct ibv_mr *mr,
				      void *addr, size_t len)
{
	return prefetch_sync(r, mr, addr, len,
			     IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE);
}

#endif /* HMM_P2P_RXE_TEST_H */
