// SPDX-License-Identifier: GPL-2.0-only
/*
 * page_pgmap() exists and struct page no longer has a pgmap member.
 * Upstream: commit 82ba975e4c43 ("mm: allow compound zone device pages") in v6.15.
 */
#include <linux/mm.h>
#include <linux/memremap.h>

static __maybe_unused struct dev_pagemap *probe(struct page *page)
{
	return page_pgmap(page);
}
