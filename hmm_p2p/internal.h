/* SPDX-License-Identifier: GPL-2.0-only */
/* hmm_p2p private declarations shared by its source files. */
#ifndef HMM_P2P_INTERNAL_H
#define HMM_P2P_INTERNAL_H

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/rcupdate.h>

#include "hmm_p2p.h"

#define HMM_P2P_MAX_PROVIDERS 16
#define HMM_P2P_NAME_LEN 48

struct hmm_p2p_counters {
	u64 c[HMM_P2P_NR_COUNTERS];
};

struct hmm_p2p_provider {
	struct list_head node;		/* hmm_p2p_providers, under the lock */
	struct list_head pagemaps;	/* struct hmm_p2p_pagemap */
	char name[HMM_P2P_NAME_LEN];
	void *owner;
	struct pci_dev *pdev;
	hmm_p2p_alias_fn alias;
	void *priv;
	struct hmm_p2p_counters __percpu *counters;
	bool warned_bad_alias;		/* said once that an alias was bad */
	struct kobject kobj;		/* /sys/kernel/hmm_p2p/providers/<name> */
};

/* A declared device-private pfn range and the provider that aliases it. */
struct hmm_p2p_pfn_range {
	unsigned long start, end;	/* pfns, end exclusive */
	struct dev_pagemap *pgmap;
	struct hmm_p2p_provider *prov;
};

/*
 * What the fault path reads: an immutable snapshot of the registry,
 * replaced as a whole by writers. Readers hold hmm_p2p_srcu only while
 * they translate pages (registry.c), never across a walk that may fault.
 */
struct hmm_p2p_snapshot {
	struct rcu_head rcu;		/* freed after a grace period */
	unsigned int nr_owners;		/* distinct provider owners */
	void *owners[HMM_P2P_MAX_PROVIDERS];
	unsigned int nr_providers;
	struct hmm_p2p_provider *providers[HMM_P2P_MAX_PROVIDERS];
	unsigned int nr_ranges;		/* sorted by start */
	struct hmm_p2p_pfn_range ranges[];
};

extern const char *const hmm_p2p_counter_names[HMM_P2P_NR_COUNTERS];

/* registry.c */
void hmm_p2p_count(struct hmm_p2p_provider *prov, enum hmm_p2p_counter c,
		   u64 n);
unsigned int hmm_p2p_foreign_owners(void *caller_owner, void **owners);
const struct hmm_p2p_snapshot *hmm_p2p_translate_begin(int *idx);
void hmm_p2p_translate_end(int idx);
const struct hmm_p2p_pfn_range *
hmm_p2p_snapshot_find(const struct hmm_p2p_snapshot *s, unsigned long pfn);
void hmm_p2p_registry_exit(void);
/* For sysfs: pages of @prov's declared pagemaps; its windows, one a line. */
unsigned long hmm_p2p_provider_declared_pages(struct hmm_p2p_provider *prov);
int hmm_p2p_provider_emit_windows(struct hmm_p2p_provider *prov, char *buf);

/* bar_window.c: the windows attached in [start, end) (pfns), emitted at @at. */
int hmm_p2p_bar_windows_emit(unsigned long start, unsigned long end,
			     char *buf, int at);

/* fault.c */
bool hmm_p2p_enabled(void);
int hmm_p2p_walk_pool_init(void);
void hmm_p2p_walk_pool_exit(void);

/* sysfs.c */
int hmm_p2p_sysfs_init(void);
void hmm_p2p_sysfs_exit(void);
/* 0, or an errno with @prov freed. */
int hmm_p2p_sysfs_add_provider(struct hmm_p2p_provider *prov);
/* Drops the sysfs directory and the last reference: frees @prov. */
void hmm_p2p_sysfs_put_provider(struct hmm_p2p_provider *prov);
void hmm_p2p_provider_free(struct hmm_p2p_provider *prov);

#endif /* HMM_P2P_INTERNAL_H */
