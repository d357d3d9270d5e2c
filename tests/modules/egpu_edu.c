// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmm_p2p_egpu: qemu edu devices as DMA clients.
 *
 * The edu has a 4 KiB buffer at device address 0x40000 that only its DMA
 * engine reaches. Moving a page from A to B is two commands, A -> buffer
 * and buffer -> B, so every byte of a test crosses the PCI fabric as a
 * real (emulated) DMA read and write. A command completes from a qemu
 * timer about 100 ms later; completion is polled.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>

#include "egpu.h"

#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_RUN		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)	/* 0: RAM -> edu buffer */
#define EDU_BUFFER		0x40000
#define EDU_ID_MAGIC		0xed	/* low byte of the ID register */

static LIST_HEAD(egpu_edus);
static DEFINE_MUTEX(egpu_edus_lock);

static void egpu_edu_release(struct kref *kref)
{
	struct egpu_edu *edu = container_of(kref, struct egpu_edu, kref);

	pci_dev_put(edu->pdev);
	kfree(edu);
}

void egpu_edu_put(struct egpu_edu *edu)
{
	kref_put(&edu->kref, egpu_edu_release);
}

/* Client @index in bind order, referenced; NULL if there is none. */
struct egpu_edu *egpu_edu_get(unsigned int index)
{
	struct egpu_edu *edu, *found = NULL;
	unsigned int i = 0;

	mutex_lock(&egpu_edus_lock);
	list_for_each_entry(edu, &egpu_edus, node) {
		if (i++ == index) {
			kref_get(&edu->kref);
			found = edu;
			break;
		}
	}
	mutex_unlock(&egpu_edus_lock);
	return found;
}

int egpu_edu_list(struct egpu *gpu, struct egpu_clients *out)
{
	struct egpu_edu *edu;

	mutex_lock(&egpu_edus_lock);
	list_for_each_entry(edu, &egpu_edus, node) {
		struct egpu_client *c = &out->client[out->nr];

		if (out->nr == EGPU_MAX_CLIENTS)
			break;
		strscpy(c->name, pci_name(edu->pdev), sizeof(c->name));
		c->distance = pci_p2pdma_distance(gpu->pdev, &edu->pdev->dev,
						  false);
		c->index = out->nr++;
	}
	mutex_unlock(&egpu_edus_lock);
	return 0;
}

/* One command; called with edu->lock held. */
static int egpu_edu_command(struct egpu_edu *edu, dma_addr_t src,
			    dma_addr_t dst, u64 cmd)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(egpu_dma_timeout_ms);

	writeq(src, edu->mmio + EDU_REG_DMA_SRC);
	writeq(dst, edu->mmio + EDU_REG_DMA_DST);
	writeq(PAGE_SIZE, edu->mmio + EDU_REG_DMA_COUNT);
	writeq(cmd | EDU_CMD_RUN, edu->mmio + EDU_REG_DMA_CMD);

	while (readq(edu->mmio + EDU_REG_DMA_CMD) & EDU_CMD_RUN) {
		if (time_after(jiffies, timeout)) {
			/*
			 * The engine may still write later: never hand it
			 * another buffer.
			 */
			edu->gone = true;
			pci_err(edu->pdev, "DMA command timed out; client disabled\n");
			return -ETIMEDOUT;
		}
		usleep_range(5000, 10000);
	}
	return 0;
}

/* Move one page from bus address @from to bus address @to. */
int egpu_edu_move(struct egpu_edu *edu, dma_addr_t from, dma_addr_t to)
{
	int ret = -ENODEV;

	mutex_lock(&edu->lock);
	if (edu->gone)
		goto out;
	ret = egpu_edu_command(edu, from, EDU_BUFFER, 0);
	if (!ret)
		ret = egpu_edu_command(edu, EDU_BUFFER, to, EDU_CMD_TO_RAM);
out:
	mutex_unlock(&edu->lock);
	return ret;
}

static int egpu_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct egpu_edu *edu;
	void __iomem *mmio;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	mmio = pcim_iomap_region(pdev, 0, "hmm_p2p_egpu_edu");
	if (IS_ERR(mmio))
		return PTR_ERR(mmio);
	if ((readl(mmio + EDU_REG_ID) & 0xff) != EDU_ID_MAGIC) {
		pci_err(pdev, "not an edu device (ID %#x)\n",
			readl(mmio + EDU_REG_ID));
		return -ENODEV;
	}
	/* The rig sets the edu's dma_mask property to 64 bits. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	edu = kzalloc_obj(*edu, GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->kref);
	mutex_init(&edu->lock);
	edu->pdev = pci_dev_get(pdev);
	edu->mmio = mmio;
	pci_set_drvdata(pdev, edu);

	mutex_lock(&egpu_edus_lock);
	list_add_tail(&edu->node, &egpu_edus);
	mutex_unlock(&egpu_edus_lock);
	pci_info(pdev, "edu DMA client ready\n");
	return 0;
}

/* The mapping goes with the binding: nobody may start a command after. */
static void egpu_edu_remove(struct pci_dev *pdev)
{
	struct egpu_edu *edu = pci_get_drvdata(pdev);

	mutex_lock(&egpu_edus_lock);
	list_del(&edu->node);
	mutex_unlock(&egpu_edus_lock);

	mutex_lock(&edu->lock);
	edu->gone = true;
	mutex_unlock(&edu->lock);
	pci_clear_master(pdev);
	egpu_edu_put(edu);
}

static const struct pci_device_id egpu_edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },	/* qemu edu */
	{ }
};
MODULE_DEVICE_TABLE(pci, egpu_edu_ids);

struct pci_driver egpu_edu_driver = {
	.name = "hmm_p2p_egpu_edu",
	.id_table = egpu_edu_ids,
	.probe = egpu_edu_probe,
	.remove = egpu_edu_remove,
};
