// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters in sysfs, one value per file (docs/ABI/sysfs-kernel-hmm_p2p):
 *   /sys/kernel/hmm_p2p/<counter>                        totals
 *   /sys/kernel/hmm_p2p/providers/<name>/<counter>       per provider
 *   /sys/kernel/hmm_p2p/providers/<name>/pci_device     the BAR's device
 *   /sys/kernel/hmm_p2p/providers/<name>/device         link to it
 *   /sys/kernel/hmm_p2p/providers/<name>/declared_pages pages declared
 *   /sys/kernel/hmm_p2p/providers/<name>/windows        BAR windows
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "internal.h"

/* Provider files that are not counters: negative, beside the counters. */
enum {
	ATTR_PCI_DEVICE = -1,
	ATTR_DECLARED_PAGES = -2,
	ATTR_WINDOWS = -3,
};

struct counter_attr {
	struct attribute attr;
	int counter;		/* enum hmm_p2p_counter, or an ATTR_* */
};

#define COUNTER_ATTR(_c) \
	{ .attr = { .mode = 0444 }, .counter = (_c) }
#define NAMED_ATTR(_name, _c) \
	{ .attr = { .name = (_name), .mode = 0444 }, .counter = (_c) }

static struct counter_attr counter_attrs[] = {
	COUNTER_ATTR(HMM_P2P_WALKS),
	COUNTER_ATTR(HMM_P2P_PAGES),
	COUNTER_ATTR(HMM_P2P_ALIASES),
	COUNTER_ATTR(HMM_P2P_FALLBACK_UNREACHABLE),
	COUNTER_ATTR(HMM_P2P_FALLBACK_REFUSED),
	COUNTER_ATTR(HMM_P2P_FAULTED),
	COUNTER_ATTR(HMM_P2P_FALLBACK_UNDECLARED),
	NAMED_ATTR("pci_device", ATTR_PCI_DEVICE),
	NAMED_ATTR("declared_pages", ATTR_DECLARED_PAGES),
	NAMED_ATTR("windows", ATTR_WINDOWS),
};

#define NR_PROVIDER_ATTRS ARRAY_SIZE(counter_attrs)

static struct attribute *total_attrs[HMM_P2P_NR_COUNTERS + 1];
static struct attribute *provider_attrs[NR_PROVIDER_ATTRS + 1];
ATTRIBUTE_GROUPS(total);
ATTRIBUTE_GROUPS(provider);

struct hmm_p2p_root {
	struct kobject kobj;
};

static struct hmm_p2p_root *root;
static struct kset *providers_kset;

static ssize_t counter_show(struct kobject *kobj, struct attribute *attr,
			    char *buf)
{
	struct counter_attr *ca = container_of(attr, struct counter_attr, attr);
	struct hmm_p2p_provider *prov = NULL;

	if (kobj != &root->kobj)
		prov = container_of(kobj, struct hmm_p2p_provider, kobj);
	if (ca->counter >= 0)
		return sysfs_emit(buf, "%llu\n",
				  hmm_p2p_counter_read(prov, ca->counter));
	/* Only providers have the other files. */
	switch (ca->counter) {
	case ATTR_PCI_DEVICE:
		return sysfs_emit(buf, "%s\n", pci_name(prov->pdev));
	case ATTR_DECLARED_PAGES:
		return sysfs_emit(buf, "%lu\n",
				  hmm_p2p_provider_declared_pages(prov));
	default:
		return hmm_p2p_provider_emit_windows(prov, buf);
	}
}

static const struct sysfs_ops counter_sysfs_ops = {
	.show = counter_show,
};

static void root_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct hmm_p2p_root, kobj));
}

static void provider_release(struct kobject *kobj)
{
	hmm_p2p_provider_free(container_of(kobj, struct hmm_p2p_provider, kobj));
}

static const struct kobj_type root_ktype = {
	.release = root_release,
	.sysfs_ops = &counter_sysfs_ops,
	.default_groups = total_groups,
};

static const struct kobj_type provider_ktype = {
	.release = provider_release,
	.sysfs_ops = &counter_sysfs_ops,
	.default_groups = provider_groups,
};

int hmm_p2p_sysfs_init(void)
{
	int i, ret;

	for (i = 0; i < HMM_P2P_NR_COUNTERS; i++) {
		counter_attrs[i].attr.name = hmm_p2p_counter_names[i];
		total_attrs[i] = &counter_attrs[i].attr;
	}
	for (i = 0; i < NR_PROVIDER_ATTRS; i++)
		provider_attrs[i] = &counter_attrs[i].attr;

	root = kzalloc(sizeof(*root), GFP_KERNEL);
	if (!root)
		return -ENOMEM;
	ret = kobject_init_and_add(&root->kobj, &root_ktype, kernel_kobj,
				   "hmm_p2p");
	if (ret)
		goto err;
	providers_kset = kset_create_and_add("providers", NULL, &root->kobj);
	if (!providers_kset) {
		ret = -ENOMEM;
		goto err;
	}
	return 0;
err:
	kobject_put(&root->kobj);
	return ret;
}

void hmm_p2p_sysfs_exit(void)
{
	kset_unregister(providers_kset);
	kobject_put(&root->kobj);
}

/*
 * On failure the provider has been freed: kobject_init_and_add() leaves an
 * initialised kobject that only kobject_put() may clean up. kobject_del()
 * on it would remove files that were never created and leave the kset a
 * second time, dropping a reference to "providers" it does not hold. Once
 * it was added, kobject_del() is right.
 *
 * The "device" link is how sysfs names the device behind an object (as
 * class devices do); pci_device stays for the scripts that read it.
 */
int hmm_p2p_sysfs_add_provider(struct hmm_p2p_provider *prov)
{
	int ret;

	prov->kobj.kset = providers_kset;
	ret = kobject_init_and_add(&prov->kobj, &provider_ktype, NULL, "%s",
				   prov->name);
	if (ret) {
		kobject_put(&prov->kobj);
		return ret;
	}
	ret = sysfs_create_link(&prov->kobj, &prov->pdev->dev.kobj, "device");
	if (ret) {
		kobject_del(&prov->kobj);
		kobject_put(&prov->kobj);
	}
	return ret;
}

void hmm_p2p_sysfs_put_provider(struct hmm_p2p_provider *prov)
{
	sysfs_remove_link(&prov->kobj, "device");
	kobject_del(&prov->kobj);
	kobject_put(&prov->kobj);
}
