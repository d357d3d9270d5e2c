// SPDX-License-Identifier: GPL-2.0-only
/*
 * zone_device_page_init(page, pgmap, order) instead of (page).
 * Changed for large device-private folios, Linux 6.19;
 * see docs/upstream-citations.md for the commit.
 */
#include <linux/memremap.h>

static __maybe_unused void probe(struct page *page, struct dev_pagemap *pgmap)
{
	zone_device_page_init(page, pgmap, 0);
}
