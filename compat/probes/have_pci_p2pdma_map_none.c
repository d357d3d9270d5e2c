// SPDX-License-Identifier: GPL-2.0-only
/*
 * enum pci_p2pdma_map_type has PCI_P2PDMA_MAP_NONE and lives in
 * <linux/pci-p2pdma.h> ("PCI/P2PDMA: Refactor the p2pdma mapping helpers",
 * Linux 6.17; see docs/upstream-citations.md).
 */
#include <linux/pci-p2pdma.h>

static __maybe_unused int probe(void)
{
	return PCI_P2PDMA_MAP_NONE;
}
