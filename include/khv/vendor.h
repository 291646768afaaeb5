/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one seam between khv's core and a hardware backend (khv-svm, khv-vmx).
 *
 * A backend probes its hardware in its module init, and only when everything
 * it needs is present registers this table with khv_register_vendor(). The
 * core exposes /dev/khv only while a backend is registered, and holds a
 * reference on the backend's module for as long as any VM exists.
 *
 * The core never includes a vendor header; a backend never reaches into the
 * core beyond include/khv/.
 */
#ifndef KHV_VENDOR_H
#define KHV_VENDOR_H

#include <linux/types.h>

struct module;

struct khv_vendor_ops {
	/* "svm" or "vmx": used in messages only. */
	const char *name;
	/* The backend module; pinned while VMs exist. */
	struct module *owner;

	/*
	 * Switch hardware virtualization on or off on the calling CPU. Called
	 * with preemption disabled, on every online CPU while at least one VM
	 * exists, and on CPUs coming online meanwhile. hardware_enable returns
	 * -EBUSY when another hypervisor already owns the CPU's virtualization
	 * (EFER.SVME / CR4.VMXE already set). hardware_disable must restore
	 * exactly the state found by hardware_enable and be idempotent (it is
	 * also called on reboot).
	 */
	int (*hardware_enable)(void);
	void (*hardware_disable)(void);
};

int khv_register_vendor(const struct khv_vendor_ops *ops);
void khv_unregister_vendor(const struct khv_vendor_ops *ops);

#endif /* KHV_VENDOR_H */
