// SPDX-License-Identifier: GPL-2.0-only
/*
 * devm_remove_action_nowarn() exists: remove a devres action, or say that
 * it is gone (its device unbinding right now) instead of warning.
 * Upstream: between v6.12 and Debian's 7.2 (devres.h; added for Rust's
 * Devres); the commit was not found in the public material read
 * (docs/upstream-citations.md, row 22). The probe tests the function itself.
 */
#include <linux/device.h>

static __maybe_unused int probe(struct device *dev, void (*fn)(void *),
				void *data)
{
	return devm_remove_action_nowarn(dev, fn, data);
}
