/* SPDX-License-Identifier: GPL-2.0-only */
/* hmm_p2p private declarations shared by its source files. */
#ifndef HMM_P2P_INTERNAL_H
#define HMM_P2P_INTERNAL_H

#include <linux/kobject.h>
#include <linux/list.h>

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
	struct kobject kobj;		/* /sys/kernel/hmm_p2p/providers/<name> */
};

extern const char *const hmm_p2p_counter_names[HMM_P2P_NR_COUNTERS];

int hmm_p2p_sysfs_init(void);
void hmm_p2p_sysfs_exit(void);
/* 0, or an errno with @prov freed. */
int hmm_p2p_sysfs_add_provider(struct hmm_p2p_provider *prov);
/* Drops the sysfs directory and the last reference: frees @prov. */
void hmm_p2p_sysfs_put_provider(struct hmm_p2p_provider *prov);
void hmm_p2p_provider_free(struct hmm_p2p_provider *prov);

#endif /* HMM_P2P_INTERNAL_H */
