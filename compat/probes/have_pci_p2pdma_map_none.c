// SPDX-License-Identifier: GPL-2.0-only
/*
 * enum pci_p2pdma_map_type has PCI_P2PDMA_MAP_NONE and the map-state helpers
 * live in <linux/pci-p2pdma.h>.
 * Upstream: commit a25e7962db0d ("PCI/P2PDMA: Refactor the p2pdma mapping helpers") and
 * commit ca2c2e4a78c6 ("dma-mapping: move the PCI P2PDMA mapping helpers to
 * pci-p2pdma.h"), both in v6.16.
 */
#include <linux/pci-p2pdma.h>

static __maybe_unused int probe(void)
{
	return PCI_P2PDMA_MAP_NONE;
}
