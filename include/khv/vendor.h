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
struct khv_vm;
struct khv_vcpu;
struct khv_s2_format;
struct kvm_sregs;

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
	 * (EFER.SVME / CR4.VMXE already set). hardware_disable restores
	 * exactly the state found by hardware_enable, and does nothing on a
	 * CPU where hardware_enable did not succeed (it is also called on
	 * reboot).
	 */
	int (*hardware_enable)(void);
	void (*hardware_disable)(void);

	/*
	 * The backend's VM and vCPU structures embed struct khv_vm and struct
	 * khv_vcpu as their first member; the core allocates vm_size and
	 * vcpu_size bytes, zeroed, and calls the constructors after filling
	 * in its own part. Destructors are called once, before the core frees.
	 */
	size_t vm_size;
	size_t vcpu_size;
	int (*vm_init)(struct khv_vm *vm);
	void (*vm_destroy)(struct khv_vm *vm);
	int (*vcpu_create)(struct khv_vcpu *vcpu);
	void (*vcpu_free)(struct khv_vcpu *vcpu);

	/*
	 * The vCPU's thread runs on @cpu from now on (load) or leaves it
	 * (put). Preemption is disabled. Between load and put, run may be
	 * called any number of times.
	 */
	void (*vcpu_load)(struct khv_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct khv_vcpu *vcpu);
	/*
	 * Enter the guest once. Called with interrupts disabled. Loads
	 * vcpu->arch.regs/rip/rflags, int_shadow, nmi_masked, cr8 and the
	 * debug registers; programs vcpu->arch.inject and the irq/nmi
	 * windows; handles pending requests (TLB flush); runs the guest;
	 * stores that state back and fills vcpu->arch.exit (exit.idt
	 * included). See struct khv_vcpu_arch in x86.h.
	 */
	void (*run)(struct khv_vcpu *vcpu);
	/*
	 * Optional: finish an exit the backend classified KHV_EXIT_VENDOR,
	 * in process context (interrupts on, may sleep, vCPU loaded).
	 * Returns what an exit handler returns: > 0 re-enter, 0 to user
	 * space (vcpu->run filled in), -errno.
	 */
	int (*handle_exit)(struct khv_vcpu *vcpu);

	/* Segments, control registers, EFER, descriptor tables. set_sregs
	 * gets a state the shared code has validated. */
	void (*get_sregs)(struct khv_vcpu *vcpu, struct kvm_sregs *sregs);
	void (*set_sregs)(struct khv_vcpu *vcpu, const struct kvm_sregs *sregs);
	/*
	 * MSRs the hardware keeps in the VMCB/VMCS or switches itself (EFER,
	 * STAR/LSTAR/CSTAR/SFMASK, KERNEL_GS_BASE, SYSENTER_*, PAT, TSC...).
	 * Return 0 if done, 1 if the backend does not hold this MSR (the
	 * shared code then decides), -EINVAL for a value the MSR refuses.
	 * Optional: without them only the shared MSRs exist.
	 */
	int (*get_msr)(struct khv_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct khv_vcpu *vcpu, u32 index, u64 data);

	/*
	 * The hardware keeps one interrupt-shadow bit (SVM): a shadow set
	 * through KVM_SET_VCPU_EVENTS reads back as both MOV SS and STI.
	 */
	bool shadow_merged;

	/* Stage-2 page-table format and the root's physical address use. */
	const struct khv_s2_format *s2_format;
};

int khv_register_vendor(const struct khv_vendor_ops *ops);
void khv_unregister_vendor(const struct khv_vendor_ops *ops);

#endif /* KHV_VENDOR_H */
