// SPDX-License-Identifier: GPL-2.0-only
/*
 * zone_device_page_init(page, pgmap, order) instead of (page).
 * Upstream: commit d245f9b4ab80 ("mm/zone_device: support large zone device private folios") added
 * the order and commit 12b2285bf3d1 ("mm/zone_device: reinitialize large zone
 * device private folios") the pgmap argument, both in v6.19.
 */
#include <linux/memremap.h>

static __maybe_unused void probe(struct page *page, struct dev_pagemap *pgmap)
{
	zone_device_page_init(page, pgmap, 0);
}
