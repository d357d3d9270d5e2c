// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device-private folios may be large (THP): migrate_device_range() reports a
 * large folio once, with MIGRATE_PFN_COMPOUND, and its destination must be a
 * folio of the same order.
 * Upstream: the device-private THP series (Balbir Singh) in v6.19, with
 * commit d245f9b4ab80 ("mm/zone_device: support large zone device private
 * folios"); the exact commit adding the flag is not verified
 * (docs/upstream-citations.md, row 3a).
 */
#include <linux/migrate.h>

static __maybe_unused unsigned long probe(void)
{
	return MIGRATE_PFN_COMPOUND;
}
