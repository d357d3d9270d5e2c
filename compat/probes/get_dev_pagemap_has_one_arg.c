// SPDX-License-Identifier: GPL-2.0-only
/*
 * get_dev_pagemap() takes the pfn alone (its cached-pgmap argument is gone).
 * Upstream: between v6.12 and Debian's 7.2; the commit was not found in the
 * public material read (docs/upstream-citations.md, row 21). The probe tests
 * the prototype itself.
 */
#include <linux/memremap.h>

static __maybe_unused struct dev_pagemap *probe(unsigned long pfn)
{
	return get_dev_pagemap(pfn);
}
