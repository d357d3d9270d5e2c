// SPDX-License-Identifier: GPL-2.0-only
/*
 * get_dev_pagemap(pfn) lost its pgmap cache argument (Linux 6.15,
 * together with page_pgmap(); see docs/upstream-citations.md).
 */
#include <linux/memremap.h>

static __maybe_unused struct dev_pagemap *probe(unsigned long pfn)
{
	return get_dev_pagemap(pfn);
}
