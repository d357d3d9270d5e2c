// SPDX-License-Identifier: GPL-2.0-only
/*
 * struct dev_pagemap_ops has folio_free() instead of page_free().
 * Upstream: commit 3a5a06554566 ("mm/zone_device: rename page_free callback
 * to folio_free") in v6.19.
 */
#include <linux/memremap.h>

static void probe_free(struct folio *folio)
{
}

static const struct dev_pagemap_ops probe_ops __maybe_unused = {
	.folio_free = probe_free,
};
