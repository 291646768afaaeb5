/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv core: internal interfaces shared by the files of khv.ko.
 */
#ifndef KHV_KHV_H
#define KHV_KHV_H

#include <linux/mutex.h>
#include <linux/types.h>

struct khv_vendor_ops;

#define KHV_API_VERSION		12

/*
 * khv_lock serializes vendor (un)registration and the global VM count that
 * decides when hardware virtualization is on. It is the outermost lock in khv
 * (Documentation/locking.md).
 */
extern struct mutex khv_lock;
/* The registered backend, or NULL. Written under khv_lock. */
extern const struct khv_vendor_ops *khv_vendor;

long khv_check_extension(long cap);

#endif /* KHV_KHV_H */
