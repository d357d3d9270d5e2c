// SPDX-License-Identifier: GPL-2.0-only
/*
 * page_pgmap() exists and struct page no longer has a pgmap member.
 * Introduced by "mm: introduce page_pgmap()" (Alistair Popple), Linux 6.15;
 * see docs/upstream-citations.md for the commit.
 */
#include <linux/mm.h>
#include <linux/memremap.h>

static __maybe_unused struct dev_pagemap *probe(struct page *page)
{
	return page_pgmap(page);
}
