/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86 vCPU model shared by both backends: architectural state in a
 * vendor-neutral form, the normalized exit record a backend fills in after
 * each guest exit, and the stage-2 (NPT/EPT) page-table format a backend
 * supplies.
 */
#ifndef KHV_X86_H
#define KHV_X86_H

#include <linux/kvm.h>
#include <linux/mmu_notifier.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <asm/fpu/types.h>

struct khv_vcpu;
struct khv_vm;

/* GPR indexes, in the instruction-encoding order. */
enum khv_reg {
	KHV_RAX, KHV_RCX, KHV_RDX, KHV_RBX, KHV_RSP, KHV_RBP, KHV_RSI, KHV_RDI,
	KHV_R8, KHV_R9, KHV_R10, KHV_R11, KHV_R12, KHV_R13, KHV_R14, KHV_R15,
	KHV_NR_GPRS
};

/*
 * Why the guest exited, as decided once by the backend from its hardware
 * exit code. Shared code handles each reason (arch/x86/exits.c).
 */
enum khv_exit_reason {
	KHV_EXIT_NONE,		/* nothing to do (e.g. a host interrupt) */
	KHV_EXIT_IO,
	KHV_EXIT_HLT,
	KHV_EXIT_CPUID,
	KHV_EXIT_RDMSR,
	KHV_EXIT_WRMSR,
	KHV_EXIT_STAGE2_FAULT,	/* NPF / EPT violation */
	KHV_EXIT_SHUTDOWN,	/* triple fault */
	KHV_EXIT_UD,		/* instruction the guest may not use: #UD */
	KHV_EXIT_XSETBV,
	KHV_EXIT_IRQ_WINDOW,	/* the guest can take an interrupt now */
	KHV_EXIT_NMI_WINDOW,	/* the guest can take an NMI now */
	KHV_EXIT_DR,		/* MOV to/from a debug register */
	KHV_EXIT_VENDOR,	/* the backend finishes it: ops->handle_exit */
	KHV_EXIT_FAIL_ENTRY,	/* VMRUN/VMLAUNCH refused the state */
	KHV_EXIT_UNKNOWN,	/* an exit the backend could not classify */
	KHV_NR_EXITS
};

/*
 * An event delivered through the guest's IDT: what the shared code asks a
 * backend to inject, and what an exit reports as interrupted.
 */
enum khv_event_type {
	KHV_EV_NONE,
	KHV_EV_EXTINT,		/* external interrupt (KVM_INTERRUPT) */
	KHV_EV_NMI,
	KHV_EV_EXCEPTION,	/* hardware exception */
	KHV_EV_SOFT_INT,	/* INT n */
	KHV_EV_SOFT_EXCEPTION,	/* INT3, INTO */
	KHV_EV_PRIV_SOFT_EXCEPTION, /* INT1 (ICEBP) */
};

struct khv_event {
	u8 type;		/* KHV_EV_* */
	u8 vector;
	u8 insn_len;		/* software events: the instruction's length */
	bool has_err;
	u32 err;
};

struct khv_exit {
	enum khv_exit_reason reason;
	u64 hw_reason;		/* the backend's own exit code, for reports */
	u64 next_rip;		/* RIP after the instruction, 0 if unknown */
	/*
	 * The event whose delivery this exit interrupted (SVM EXITINTINFO,
	 * VMX IDT-vectoring information), type KHV_EV_NONE if none. Filled
	 * on every exit; the shared code delivers it again. A backend never
	 * re-injects on its own.
	 */
	struct khv_event idt;
	union {
		struct {
			u16 port;
			u8 size;	/* 1, 2, 4 */
			bool in, string, rep;
			u8 addr_size;	/* string forms: 2, 4, 8 */
			u8 seg;		/* string outs: source segment */
		} io;
		struct {
			u64 gpa;
			bool write, fetch;
			bool present;	/* a stage-2 entry was there */
		} s2;
		struct {
			u8 dr;		/* 0-7 as encoded (4/5 alias 6/7) */
			s8 gpr;		/* KHV_R*, or -1: decode it at RIP */
			bool write;	/* MOV to DRn */
		} dr;
	};
};

/* Page-fault error code bits (SDM vol. 3, "Interrupt 14"). */
#define KHV_PF_PRESENT		BIT(0)
#define KHV_PF_WRITE		BIT(1)
#define KHV_PF_USER		BIT(2)
#define KHV_PF_RSVD		BIT(3)
#define KHV_PF_FETCH		BIT(4)

struct khv_emul_ctxt;

/* An MMIO access of the emulated instruction (arch/x86/mmio.c). */
struct khv_mmio {
	u64 gpa;
	u8 len;
	bool read_pending;	/* a read went to user space */
	bool read_done;		/* ... and its data is in data[] */
	bool write_pending;	/* the instruction wrote data[] */
	u8 data[8];
};

/* MSRs the shared code keeps (arch/x86/msr.c). */
#define KHV_NR_VAR_MTRR		8
struct khv_msrs {
	u64 apic_base;
	u64 misc_enable;
	u64 mtrr_def_type;
	u64 mtrr_fixed[11];
	u64 mtrr_var[2 * KHV_NR_VAR_MTRR];	/* base, mask pairs */
	u64 hwcr;			/* MSR_K7_HWCR: McStatusWrEn (bit 18) */
	/*
	 * Machine-check architecture. mcg_cap's bank count (bits 7:0) says
	 * how many banks exist (32 from vCPU creation, as KVM); each bank is
	 * CTL, STATUS, ADDR, MISC in mce_banks[4 * i ...], and its CTL2
	 * (CMCI) in mci_ctl2[i]. mcg_ext_ctl exists on VMX only.
	 */
	u64 mcg_cap;
	u64 mcg_status;
	u64 mcg_ctl;
	u64 mcg_ext_ctl;
	u64 mce_banks[4 * 32];
	u64 mci_ctl2[32];
};

/*
 * Events waiting for the guest (arch/x86/events.c), as KVM models them:
 * "pending" is queued and not yet delivered; "injected" was being delivered
 * when an exit interrupted it and is redone as is.
 */
struct khv_events {
	struct {
		bool pending, injected, has_err;
		u8 nr;
		u32 err;
		u8 insn_len;		/* software exceptions */
		u8 type;		/* KHV_EV_*EXCEPTION */
	} exc;
	struct {
		bool pending;		/* KVM_INTERRUPT's, or interrupted */
		bool soft;		/* an INT n to redo (insn_len) */
		u8 nr;
		u8 insn_len;
	} irq;
	struct {
		bool injected;
		u8 pending;		/* 0..2, as KVM */
	} nmi;
	bool triple_fault;		/* exception while delivering #DF */
};

struct khv_vcpu_arch {
	/*
	 * GPRs, RIP and RFLAGS: the backend loads them on every entry and
	 * stores them on every exit, so shared code and ioctls use them
	 * directly (under vcpu->mutex).
	 */
	u64 regs[KHV_NR_GPRS];
	u64 rip;
	u64 rflags;

	struct khv_exit exit;		/* the last exit */

	/*
	 * Events. The shared code fills inject and the windows right before
	 * run() (interrupts off); run() programs them (EVENTINJ / VM-entry
	 * interruption information; V_IRQ or interrupt-window exiting, NMI
	 * window) and reports what it interrupted in exit.idt.
	 */
	struct khv_events ev;
	struct khv_event inject;	/* KHV_EV_NONE: nothing this entry */
	bool irq_window;		/* exit (IRQ_WINDOW) once IF=1, no shadow */
	bool nmi_window;		/* exit (NMI_WINDOW) once NMIs unblocked */
	/*
	 * Guest state run() loads before entry and stores after exit:
	 * interrupt shadow (KVM_X86_SHADOW_INT_MOV_SS / _STI), blocking by
	 * NMI, the TPR as CR8 (bits 3:0), debug registers. The guest's
	 * DR0-3 (and DR6 on VMX) are in the hardware only while DR7 arms a
	 * breakpoint (DR7 bits 7:0); MOV DR always exits (KHV_EXIT_DR).
	 */
	u8 int_shadow;
	bool shadow_merged;		/* ops->shadow_merged, for events.c */
	bool nmi_masked;
	u64 cr8;
	u64 db[4];
	u64 dr6, dr7;

	/*
	 * A user-space exit whose completion is due at the next KVM_RUN, and
	 * the RIP of the instruction it belongs to.
	 */
	int (*complete_userspace)(struct khv_vcpu *vcpu);
	u64 exit_rip;
	struct {
		u16 port;
		u8 size;
		bool in;
		u32 count;	/* string forms: elements in this exit */
	} pio;

	/* Instruction emulation (arch/x86/mmio.c). */
	struct khv_emul_ctxt *emul;
	struct kvm_sregs *emul_sregs;
	struct khv_mmio mmio;
	int emul_error;

	struct khv_msrs msr;

	/* CPUID table from KVM_SET_CPUID2 (kvmalloc'ed). */
	struct kvm_cpuid_entry2 *cpuid;
	int cpuid_nent;

	struct fpu_guest guest_fpu;
	u64 xcr0;			/* switched by the shared run loop */
	u32 pkru;			/* KVM_GET/SET_XSAVE only */

	bool loaded;			/* vcpu_load()ed on this CPU */
	int cpu;			/* CPU it was last loaded on, or -1 */
	struct preempt_notifier preempt_notifier;
};

/*
 * The stage-2 page-table format of a backend: x86 PTE bits for NPT, EPT
 * bits for VMX. A non-leaf entry is table | pa; a leaf is leaf_r | pa, plus
 * leaf_w if writable; an entry is present if (entry & present). accessed
 * is the leaf's accessed bit, which the hardware sets on use, or 0 if the
 * format has none in use (EPT without A/D): reclaim then ages by zapping.
 * Bit 11 of a leaf is khv's (ignored by the hardware in both formats).
 */
struct khv_s2_format {
	int levels;			/* 4, or 5 */
	u64 table;
	u64 leaf_r;
	u64 leaf_w;
	u64 present;
	u64 accessed;
};

struct khv_vm_arch {
	/*
	 * Stage-2 tables (arch/x86/mmu.c); mmu_lock protects them, s2_pages,
	 * mmu_seq and mmu_inv_count. No mapped page holds a reference: the
	 * MMU notifier on the VM's mm keeps the tables coherent with it.
	 */
	spinlock_t mmu_lock;
	u64 *s2_root;			/* PML4 page; its pa goes in nCR3/EPTP */
	unsigned long s2_pages;		/* leaves mapped */
	unsigned long mmu_seq;		/* bumped by each invalidation's end */
	unsigned long mmu_inv_count;	/* invalidations in progress */
	struct mmu_notifier mmu_notifier;
	bool mmu_notifier_on;		/* registered: creation to destruction */
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags (under slots_lock). */
	u64 dirty_log_manual;
	/* KVM_SET_TSS_ADDR / _IDENTITY_MAP_ADDR: recorded, unused (vm->lock). */
	u64 tss_addr, identity_map_addr;
};

/* arch/x86/events.c */
void khv_queue_exception(struct khv_vcpu *vcpu, u8 vector, bool has_err,
			 u32 err);
void khv_host_machine_check(void);
void khv_events_before_entry(struct khv_vcpu *vcpu);
void khv_events_after_exit(struct khv_vcpu *vcpu);
bool khv_irq_window_open(struct khv_vcpu *vcpu);
long khv_events_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp);
void khv_events_reset(struct khv_vcpu *vcpu);
void khv_events_get(struct khv_vcpu *vcpu, struct kvm_vcpu_events *e);
int khv_events_set(struct khv_vcpu *vcpu, const struct kvm_vcpu_events *e);

/* arch/x86/state.c */
u64 khv_supported_xcr0(void);
int khv_set_xcr0(struct khv_vcpu *vcpu, u64 xcr0);
long khv_state_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		     void __user *argp);

/* arch/x86/mmu.c: the stage-2 MMU */
/* Tables and the MMU notifier on vm->mm (the caller's). */
int khv_s2_init(struct khv_vm *vm);
/* Unregister the notifier; first step of VM destruction (vCPUs still exist). */
void khv_s2_detach(struct khv_vm *vm);
/* Detach if needed and free the tables. */
void khv_s2_destroy(struct khv_vm *vm);
/*
 * Map the page behind a guest-physical address after a stage-2 fault.
 * Returns 0 (mapped), KHV_S2_MMIO (no memslot, or a write to a read-only
 * slot: the access is MMIO), or -errno (-EFAULT: the slot's user memory is
 * not there).
 */
#define KHV_S2_MMIO	1
int khv_s2_fault(struct khv_vcpu *vcpu, u64 gpa, bool write);
/* Unmap [gfn, gfn + npages) and make every vCPU forget it. */
void khv_s2_zap(struct khv_vm *vm, u64 gfn, u64 npages);
/*
 * Dirty logging: make [gfn, end), or the frames gfn + bit for each bit of
 * mask, read-only in stage 2; TLBs are flushed on return.
 */
void khv_s2_write_protect(struct khv_vm *vm, u64 gfn, u64 end);
void khv_s2_write_protect_mask(struct khv_vm *vm, u64 gfn, unsigned long mask);

/* arch/x86/vcpu.c */
int khv_arch_vcpu_create(struct khv_vcpu *vcpu);
void khv_arch_vcpu_free(struct khv_vcpu *vcpu);
long khv_arch_vcpu_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg);
long khv_arch_vm_ioctl(struct khv_vm *vm, unsigned int ioctl,
		       unsigned long arg);
/* Requests, handled by the backend before its next entry. */
#define KHV_REQ_TLB_FLUSH	0
void khv_vcpu_kick(struct khv_vcpu *vcpu);
void khv_request_all(struct khv_vm *vm, int req);

/* arch/x86/exits.c: what an exit means. >0: re-enter; 0: to user space. */
int khv_handle_exit(struct khv_vcpu *vcpu);

/*
 * arch/x86/guest_mem.c. khv_linear_rw() returns 0, KHV_WALK_FAULT,
 * KHV_WALK_NONCANONICAL (x86_walk.h), KHV_MEM_NOT_RAM, or -errno.
 */
#define KHV_MEM_NOT_RAM		3
int khv_gpa_rw(struct khv_vcpu *vcpu, u64 gpa, void *buf, unsigned int len,
	       bool write);
int khv_translate(struct khv_vcpu *vcpu, const struct kvm_sregs *sregs,
		  u64 gva, u32 access, u64 *gpa, u32 *err);
int khv_linear_rw(struct khv_vcpu *vcpu, const struct kvm_sregs *sregs,
		  u64 la, void *buf, unsigned int len, u32 access, u32 *err,
		  u64 *fault_la);

/* arch/x86/mmio.c */
int khv_emulate(struct khv_vcpu *vcpu);
int khv_emulate_init(struct khv_vcpu *vcpu);
void khv_emulate_free(struct khv_vcpu *vcpu);

/* arch/x86/msr.c */
int khv_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data);
int khv_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host);
void khv_msr_reset(struct khv_vcpu *vcpu);
long khv_msrs_ioctl(struct khv_vcpu *vcpu, struct kvm_msrs __user *u, bool set);
long khv_msr_index_list(struct kvm_msr_list __user *u);
/*
 * Machine-check banks (arch/x86/msr.c): KVM_CAP_MCE's value (the most banks
 * KVM_X86_SETUP_MCE accepts, 32), KVM_X86_GET_MCE_CAP_SUPPORTED on
 * /dev/khv, and the vCPU ioctls KVM_X86_SETUP_MCE and KVM_X86_SET_MCE
 * (called with the vCPU loaded: KVM_X86_SET_MCE reads CR4).
 */
long khv_mce_banks_supported(void);
long khv_mce_cap_supported(u64 __user *u);
long khv_mce_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		   void __user *argp);

/* arch/x86/cpuid.c */
long khv_set_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u);
long khv_get_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u);
long khv_get_supported_cpuid(struct kvm_cpuid2 __user *u);
const struct kvm_cpuid_entry2 *khv_cpuid_find(struct khv_vcpu *vcpu,
					      u32 function, u32 index);
u32 khv_xstate_size(u64 xcr0);
unsigned int khv_cpuid_maxphyaddr(struct khv_vcpu *vcpu);

#endif /* KHV_X86_H */
