/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv core: VMs and vCPUs, shared by the core and the backends.
 *
 * Lock order, outermost first (Documentation/locking.md):
 *   khv_lock  >  vm->lock  >  vcpu->mutex  >  vm->slots_lock
 * Memslots are read under vm->srcu. Each member below says who may touch it.
 */
#ifndef KHV_KHV_H
#define KHV_KHV_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <khv/memslot.h>
#include <khv/x86.h>

struct khv_vendor_ops;
struct mm_struct;

#define KHV_API_VERSION		12
/* KVM's x86 limits: 1024 vCPUs, ids below 4 x 1024. */
#define KHV_MAX_VCPUS		1024
#define KHV_MAX_VCPU_IDS	(4 * KHV_MAX_VCPUS)
/* The vCPU mmap: struct kvm_run, then the PIO data page. */
#define KHV_PIO_PAGE_OFFSET	1
#define KHV_VCPU_MMAP_PAGES	2

struct khv_vm {
	/* Set at creation, constant. */
	struct mm_struct *mm;			/* creator's; mmgrab()ed */
	const struct khv_vendor_ops *ops;
	/* Last put frees the VM: the VM fd holds one, each vCPU fd one. */
	refcount_t users;

	/*
	 * lock: vCPU creation (vcpus, created_vcpus, online_vcpus' writer)
	 * and VM-wide configuration.
	 */
	struct mutex lock;
	struct xarray vcpus;			/* index -> vcpu; RCU readers */
	int created_vcpus;			/* under lock */
	atomic_t online_vcpus;			/* written under lock */

	/* slots_lock serializes memslot updates; readers use srcu. */
	struct mutex slots_lock;
	struct srcu_struct srcu;
	struct khv_memslots slots;
	u64 max_gfn;				/* first guest frame out of range */

	struct khv_vm_arch arch;
};

struct khv_vcpu {
	/* Set at creation, constant. */
	struct khv_vm *vm;
	u32 vcpu_id;				/* the id user space chose */
	int vcpu_idx;				/* index in vm->vcpus */
	struct kvm_run *run;			/* mmap page 0 */
	void *pio_data;				/* mmap page 1 */

	/* Held by every vCPU ioctl: serializes the vCPU's own state. */
	struct mutex mutex;

	/*
	 * mode says whether the vCPU may be in guest mode; requests are bits
	 * set by other threads (khv_request_all) for the vCPU to act on
	 * before its next entry. See the run loop in arch/x86/vcpu.c for why
	 * a request is never missed.
	 */
	int mode;
	unsigned long requests;

	struct khv_vcpu_arch arch;		/* under mutex */
};

enum {
	KHV_OUTSIDE_GUEST,
	KHV_IN_GUEST,
	KHV_EXITING_GUEST,
};

long khv_check_extension(struct khv_vm *vm, long cap);

/* virt/hw.c: hardware virtualization on while any VM exists. */
int khv_hw_get(const struct khv_vendor_ops *ops);
void khv_hw_put(void);
int khv_hw_init(void);
void khv_hw_exit(void);

/* virt/vm.c */
int khv_create_vm(unsigned long type);
void khv_vm_get(struct khv_vm *vm);
void khv_vm_put(struct khv_vm *vm);
/* Is the caller allowed to use this VM (the creator's mm)? */
bool khv_vm_caller_ok(const struct khv_vm *vm);

/* virt/vcpu.c */
int khv_create_vcpu(struct khv_vm *vm, unsigned long id);
void khv_vcpu_destroy(struct khv_vcpu *vcpu);

/*
 * khv_lock serializes backend (un)registration and the VM count that
 * decides when hardware virtualization is on. It is the outermost lock.
 */
extern struct mutex khv_lock;
/* The registered backend, or NULL. Written under khv_lock. */
extern const struct khv_vendor_ops *khv_vendor;

#endif /* KHV_KHV_H */
