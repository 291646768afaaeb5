// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86 vCPU: KVM_RUN's loop, the state ioctls, and moving the vCPU's
 * hardware state with its thread (preempt notifiers).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/preempt.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/mce.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/nospec-branch.h>

#include <khv/khv.h>
#include <khv/vendor.h>

static inline struct khv_vcpu *pn_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct khv_vcpu, arch.preempt_notifier);
}

static void khv_vcpu_load(struct khv_vcpu *vcpu)
{
	int cpu = smp_processor_id();

	vcpu->vm->ops->vcpu_load(vcpu, cpu);
	vcpu->arch.cpu = cpu;
	vcpu->arch.loaded = true;
}

static void khv_vcpu_put(struct khv_vcpu *vcpu)
{
	vcpu->vm->ops->vcpu_put(vcpu);
	vcpu->arch.loaded = false;
}

static void khv_sched_in(struct preempt_notifier *pn, int cpu)
{
	khv_vcpu_load(pn_to_vcpu(pn));
}

static void khv_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	khv_vcpu_put(pn_to_vcpu(pn));
}

static struct preempt_ops khv_preempt_ops = {
	.sched_in = khv_sched_in,
	.sched_out = khv_sched_out,
};

/* Take the vCPU onto this thread and CPU, for the length of an ioctl. */
static void khv_vcpu_get_cpu(struct khv_vcpu *vcpu)
{
	preempt_disable();
	preempt_notifier_register(&vcpu->arch.preempt_notifier);
	khv_vcpu_load(vcpu);
	preempt_enable();
}

static void khv_vcpu_put_cpu(struct khv_vcpu *vcpu)
{
	preempt_disable();
	khv_vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->arch.preempt_notifier);
	preempt_enable();
}

static void khv_kick_ipi(void *unused)
{
	/* The interrupt itself made the guest exit: nothing to do. */
}

/**
 * khv_vcpu_kick - make a vCPU leave guest mode soon
 * @vcpu: the vCPU
 *
 * If the vCPU may be in guest mode, interrupt its CPU and wait until the
 * interrupt was taken there, which means the guest exited. Called from
 * process context with interrupts on.
 */
void khv_vcpu_kick(struct khv_vcpu *vcpu)
{
	int cpu, me;

	if (cmpxchg(&vcpu->mode, KHV_IN_GUEST, KHV_EXITING_GUEST) != KHV_IN_GUEST)
		return;
	cpu = READ_ONCE(vcpu->arch.cpu);
	me = get_cpu();
	if (cpu != me && cpu >= 0 && cpu_online(cpu))
		smp_call_function_single(cpu, khv_kick_ipi, NULL, 1);
	put_cpu();
}

/**
 * khv_request_all - post a request to every vCPU and kick them
 * @vm: the VM
 * @req: KHV_REQ_*
 *
 * On return, no vCPU is in guest mode without having seen the request:
 * each either exited (kick) or will see it before its next entry.
 */
void khv_request_all(struct khv_vm *vm, int req)
{
	struct khv_vcpu *vcpu;
	unsigned long i;

	xa_for_each(&vm->vcpus, i, vcpu) {
		set_bit(req, &vcpu->requests);
		/* Pairs with the barrier after the mode change in the run loop. */
		smp_mb__after_atomic();
		khv_vcpu_kick(vcpu);
	}
}

/* Register state the guest's reset leaves (SDM "Initialization"). */
static void khv_vcpu_reset_regs(struct khv_vcpu *vcpu)
{
	memset(vcpu->arch.regs, 0, sizeof(vcpu->arch.regs));
	vcpu->arch.rip = 0xfff0;
	vcpu->arch.rflags = X86_EFLAGS_FIXED;
	/* EDX holds the processor signature at reset; 0x600 as KVM does. */
	vcpu->arch.regs[KHV_RDX] = 0x600;
	vcpu->arch.xcr0 = XFEATURE_MASK_FP;
	vcpu->arch.cr8 = 0;
	memset(vcpu->arch.db, 0, sizeof(vcpu->arch.db));
	vcpu->arch.dr6 = DR6_RESERVED;		/* 0xffff0ff0 */
	vcpu->arch.dr7 = 0x400;
	khv_events_reset(vcpu);
	khv_msr_reset(vcpu);
}

/* For the backends (events.c is also built into a KUnit module). */
EXPORT_SYMBOL_GPL(khv_queue_exception);

/**
 * khv_host_machine_check - hand a machine check the guest took to the host
 *
 * A #MC while the guest ran (or during VM entry) was intercepted, so the
 * host's handler did not see it: run it now, as for one in user mode (it
 * may kill the VMM for an unrecoverable memory error, never the host for
 * the guest's sake). Called by the backends right after the exit.
 */
void khv_host_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}
EXPORT_SYMBOL_GPL(khv_host_machine_check);

/* The host's XCR0, switched with the guest's around each entry. */
static u64 khv_host_xcr0;

int khv_arch_vcpu_create(struct khv_vcpu *vcpu)
{
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		khv_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	vcpu->arch.cpu = -1;
	vcpu->arch.shadow_merged = vcpu->vm->ops->shadow_merged;
	preempt_notifier_init(&vcpu->arch.preempt_notifier, &khv_preempt_ops);
	if (!fpu_alloc_guest_fpstate(&vcpu->arch.guest_fpu))
		return -ENOMEM;
	if (khv_emulate_init(vcpu)) {
		fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
		return -ENOMEM;
	}
	khv_vcpu_reset_regs(vcpu);
	return 0;
}

void khv_arch_vcpu_free(struct khv_vcpu *vcpu)
{
	khv_emulate_free(vcpu);
	fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
	kvfree(vcpu->arch.cpuid);
}

/*
 * One guest entry. Returns > 0 to go around the loop, 0 to return to user
 * space with vcpu->run filled in, or -errno.
 *
 * Why nothing is missed: the mode is set to IN_GUEST with interrupts off,
 * then a full barrier, then signals, need_resched and requests are checked.
 * A thread posting a request sets the bit, has a full barrier, then reads
 * the mode (khv_vcpu_kick): either we see the bit here, or it sees IN_GUEST
 * and sends an IPI, which cannot be taken before we are in the guest
 * (interrupts are off until VMRUN/VMLAUNCH) and then forces an exit. A
 * signal sent meanwhile likewise IPIs this CPU (kick_process) once we are
 * past the check. Backends handle KHV_REQ_TLB_FLUSH inside run().
 */
static int khv_vcpu_enter_guest(struct khv_vcpu *vcpu)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;
	bool xcr0_switch;

	/* An exception while #DF was being delivered: the CPU shuts down. */
	if (vcpu->arch.ev.triple_fault) {
		vcpu->arch.ev.triple_fault = false;
		memset(&vcpu->arch.ev.exc, 0, sizeof(vcpu->arch.ev.exc));
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}

	preempt_disable();
	local_irq_disable();
	WRITE_ONCE(vcpu->mode, KHV_IN_GUEST);
	smp_mb();
	if (signal_pending(current) || need_resched() ||
	    READ_ONCE(vcpu->mode) != KHV_IN_GUEST) {
		WRITE_ONCE(vcpu->mode, KHV_OUTSIDE_GUEST);
		local_irq_enable();
		preempt_enable();
		if (signal_pending(current)) {
			vcpu->run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		cond_resched();
		return 1;
	}
	khv_events_before_entry(vcpu);
	/*
	 * The guest's XCR0 while it runs (its XSAVE/XRSTOR use it), the
	 * host's back before interrupts are on again. The FPU registers
	 * themselves were swapped by fpu_swap_kvm_fpstate() around the loop.
	 */
	xcr0_switch = khv_host_xcr0 && vcpu->arch.xcr0 != khv_host_xcr0;
	if (xcr0_switch)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->arch.xcr0);
	ops->run(vcpu);
	/*
	 * VMSCAPE: the guest may have trained branch predictors the host's
	 * user space (the VMM) uses: barrier before returning there.
	 */
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER	/* 6.1 kernels from 2025 on */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
	if (xcr0_switch)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, khv_host_xcr0);
	khv_events_after_exit(vcpu);
	WRITE_ONCE(vcpu->mode, KHV_OUTSIDE_GUEST);
	/* Host interrupts that made the guest exit are taken here. */
	local_irq_enable();
	preempt_enable();
	return khv_handle_exit(vcpu);
}

/* What KVM_RUN tells user space about interrupts, on every return. */
static void khv_post_run(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->arch.rflags & X86_EFLAGS_IF);
	run->cr8 = vcpu->arch.cr8;
	run->apic_base = vcpu->arch.msr.apic_base;
	run->ready_for_interrupt_injection = khv_irq_window_open(vcpu) &&
					     !vcpu->arch.ev.irq.pending;
	run->flags = 0;
}

static bool khv_sregs_valid(struct khv_vcpu *vcpu, const struct kvm_sregs *s);
static int khv_set_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s);
static void khv_get_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s);
static void khv_get_regs(struct khv_vcpu *vcpu, struct kvm_regs *r);
static void khv_set_regs(struct khv_vcpu *vcpu, const struct kvm_regs *r);

#define KHV_SYNC_VALID	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | \
			 KVM_SYNC_X86_EVENTS)

/* KVM_CAP_SYNC_REGS: state user space marked dirty in kvm_run.s.regs. */
static int khv_sync_regs_in(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_sync_regs *sr = &run->s.regs;
	int r;

	if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS) {
		khv_set_regs(vcpu, &sr->regs);
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_REGS;
	}
	if (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS) {
		struct kvm_sregs *s = vcpu->arch.emul_sregs;

		memcpy(s, &sr->sregs, sizeof(*s));
		if (!khv_sregs_valid(vcpu, s))
			return -EINVAL;
		r = khv_set_sregs(vcpu, s);
		if (r)
			return r;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_SREGS;
	}
	if (run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS) {
		struct kvm_vcpu_events e;

		memcpy(&e, &sr->events, sizeof(e));
		r = khv_events_set(vcpu, &e);
		if (r)
			return r;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

static void khv_sync_regs_out(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_sync_regs *sr = &run->s.regs;

	if (run->kvm_valid_regs & KVM_SYNC_X86_REGS)
		khv_get_regs(vcpu, &sr->regs);
	if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS) {
		struct kvm_sregs *s = vcpu->arch.emul_sregs;

		khv_get_sregs(vcpu, s);
		memcpy(&sr->sregs, s, sizeof(*s));
	}
	if (run->kvm_valid_regs & KVM_SYNC_X86_EVENTS) {
		struct kvm_vcpu_events e;

		khv_events_get(vcpu, &e);
		memcpy(&sr->events, &e, sizeof(e));
	}
}

static int khv_vcpu_run(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r = 1;

	khv_vcpu_get_cpu(vcpu);
	if ((run->kvm_valid_regs & ~KHV_SYNC_VALID) ||
	    (run->kvm_dirty_regs & ~KHV_SYNC_VALID)) {
		r = -EINVAL;
		goto out;
	}
	if (run->kvm_dirty_regs) {
		r = khv_sync_regs_in(vcpu);
		if (r)
			goto out;
		r = 1;
	}
	/* Without an in-kernel APIC, user space owns the TPR (CR8). */
	if (run->cr8 & ~0xfULL) {
		r = -EINVAL;
		goto out;
	}
	vcpu->arch.cr8 = run->cr8;

	/*
	 * Finish what the last exit to user space left half done - unless
	 * user space moved RIP meanwhile (KVM_SET_REGS): then the instruction
	 * is abandoned, as in KVM.
	 */
	if (vcpu->arch.complete_userspace) {
		int (*complete)(struct khv_vcpu *) = vcpu->arch.complete_userspace;

		vcpu->arch.complete_userspace = NULL;
		if (vcpu->arch.rip == vcpu->arch.exit_rip) {
			r = complete(vcpu);
			if (r <= 0)
				goto out;
		}
	}
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = KVM_EXIT_INTR;
		r = -EINTR;
		goto out;
	}

	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, true);
	run->exit_reason = KVM_EXIT_UNKNOWN;
	while (r > 0) {
		r = khv_vcpu_enter_guest(vcpu);
		/*
		 * User space asked to hear when it can inject (user-space
		 * irqchip): tell it as soon as the guest can take one.
		 */
		if (r > 0 && READ_ONCE(run->request_interrupt_window) &&
		    khv_irq_window_open(vcpu) && !vcpu->arch.ev.irq.pending) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			r = 0;
		}
	}
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, false);
out:
	vcpu->arch.exit_rip = vcpu->arch.rip;
	if (run->kvm_valid_regs)
		khv_sync_regs_out(vcpu);
	khv_post_run(vcpu);
	khv_vcpu_put_cpu(vcpu);
	return r;
}

static void khv_get_regs(struct khv_vcpu *vcpu, struct kvm_regs *r)
{
	const u64 *g = vcpu->arch.regs;

	*r = (struct kvm_regs) {
		.rax = g[KHV_RAX], .rbx = g[KHV_RBX], .rcx = g[KHV_RCX],
		.rdx = g[KHV_RDX], .rsi = g[KHV_RSI], .rdi = g[KHV_RDI],
		.rsp = g[KHV_RSP], .rbp = g[KHV_RBP],
		.r8 = g[KHV_R8], .r9 = g[KHV_R9], .r10 = g[KHV_R10],
		.r11 = g[KHV_R11], .r12 = g[KHV_R12], .r13 = g[KHV_R13],
		.r14 = g[KHV_R14], .r15 = g[KHV_R15],
		.rip = vcpu->arch.rip, .rflags = vcpu->arch.rflags,
	};
}

static void khv_set_regs(struct khv_vcpu *vcpu, const struct kvm_regs *r)
{
	u64 *g = vcpu->arch.regs;

	g[KHV_RAX] = r->rax; g[KHV_RBX] = r->rbx; g[KHV_RCX] = r->rcx;
	g[KHV_RDX] = r->rdx; g[KHV_RSI] = r->rsi; g[KHV_RDI] = r->rdi;
	g[KHV_RSP] = r->rsp; g[KHV_RBP] = r->rbp;
	g[KHV_R8] = r->r8; g[KHV_R9] = r->r9; g[KHV_R10] = r->r10;
	g[KHV_R11] = r->r11; g[KHV_R12] = r->r12; g[KHV_R13] = r->r13;
	g[KHV_R14] = r->r14; g[KHV_R15] = r->r15;
	vcpu->arch.rip = r->rip;
	/* Bit 1 always reads as 1. */
	vcpu->arch.rflags = r->rflags | X86_EFLAGS_FIXED;
}

/* CR4 bits the vCPU's CPUID allows (and the host has): KVM's rule. */
static u64 khv_cr4_allowed(struct khv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e1 = khv_cpuid_find(vcpu, 1, 0);
	const struct kvm_cpuid_entry2 *e7 = khv_cpuid_find(vcpu, 7, 0);
	u32 ecx1 = e1 ? e1->ecx : 0;
	u32 ebx7 = e7 ? e7->ebx : 0, ecx7 = e7 ? e7->ecx : 0;
	u64 ok = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

#define KHV_CR4_IF(bit, guest, host)		\
	do {					\
		if ((guest) && boot_cpu_has(host))	\
			ok |= (bit);		\
	} while (0)
	KHV_CR4_IF(X86_CR4_OSXSAVE, ecx1 & BIT(26), X86_FEATURE_XSAVE);
	KHV_CR4_IF(X86_CR4_PCIDE, ecx1 & BIT(17), X86_FEATURE_PCID);
	KHV_CR4_IF(X86_CR4_FSGSBASE, ebx7 & BIT(0), X86_FEATURE_FSGSBASE);
	KHV_CR4_IF(X86_CR4_SMEP, ebx7 & BIT(7), X86_FEATURE_SMEP);
	KHV_CR4_IF(X86_CR4_SMAP, ebx7 & BIT(20), X86_FEATURE_SMAP);
	KHV_CR4_IF(X86_CR4_UMIP, ecx7 & BIT(2), X86_FEATURE_UMIP);
#undef KHV_CR4_IF
	/*
	 * Not offered even if user space puts them in CPUID: VMXE (no nested
	 * virtualization), LA57 (the walker does 4-level paging), PKE (PKRU
	 * is not switched), CET.
	 */
	return ok;
}

/*
 * KVM_SET_SREGS validity: what KVM refuses with -EINVAL, from the SDM's
 * rules for CR0/CR4/EFER (reserved bits, and combinations no CPU accepts),
 * and CR4 bits only where the vCPU's CPUID has the feature.
 */
static bool khv_sregs_valid(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	u64 efer_ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	if (s->cr0 >> 32)
		return false;
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		return false;
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return false;
	if (s->cr4 & ~khv_cr4_allowed(vcpu))
		return false;
	if (s->efer & ~efer_ok)
		return false;
	if ((s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG)) {
		/* Long mode with paging: PAE, LMA, and a CR3 in range. */
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & EFER_LMA))
			return false;
		if (s->cr3 >> khv_cpuid_maxphyaddr(vcpu))
			return false;
	} else if ((s->efer & EFER_LMA) || s->cs.l) {
		return false;
	}
	return true;
}

/* Shared parts of the sregs: TPR, APIC base, the waiting interrupt. */
static void khv_get_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s)
{
	const struct khv_events *ev = &vcpu->arch.ev;

	vcpu->vm->ops->get_sregs(vcpu, s);
	s->cr8 = vcpu->arch.cr8;
	s->apic_base = vcpu->arch.msr.apic_base;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
	if (ev->irq.pending && !ev->irq.soft)
		s->interrupt_bitmap[ev->irq.nr / 64] |= 1ULL << (ev->irq.nr % 64);
}

/* @s has passed khv_sregs_valid(). */
static int khv_set_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s)
{
	unsigned int i;

	if (khv_set_msr(vcpu, MSR_IA32_APICBASE, s->apic_base, true))
		return -EINVAL;
	vcpu->vm->ops->set_sregs(vcpu, s);
	/* KVM ignores a CR8 with reserved bits here. */
	if (!(s->cr8 & ~0xfULL))
		vcpu->arch.cr8 = s->cr8;
	for (i = 0; i < 256; i++) {
		if (s->interrupt_bitmap[i / 64] & (1ULL << (i % 64))) {
			vcpu->arch.ev.irq.pending = true;
			vcpu->arch.ev.irq.soft = false;
			vcpu->arch.ev.irq.nr = i;
			break;
		}
	}
	return 0;
}

long khv_arch_vcpu_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	long r;

	switch (ioctl) {
	case KVM_RUN:
		if (arg)
			return -EINVAL;
		return khv_vcpu_run(vcpu);
	case KVM_GET_REGS: {
		struct kvm_regs regs;

		khv_get_regs(vcpu, &regs);
		return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
	}
	case KVM_SET_REGS: {
		struct kvm_regs regs;

		if (copy_from_user(&regs, argp, sizeof(regs)))
			return -EFAULT;
		khv_set_regs(vcpu, &regs);
		return 0;
	}
	case KVM_GET_SREGS: {
		struct kvm_sregs *s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);

		if (!s)
			return -ENOMEM;
		khv_vcpu_get_cpu(vcpu);
		khv_get_sregs(vcpu, s);
		khv_vcpu_put_cpu(vcpu);
		r = copy_to_user(argp, s, sizeof(*s)) ? -EFAULT : 0;
		kfree(s);
		return r;
	}
	case KVM_SET_SREGS: {
		struct kvm_sregs *s = memdup_user(argp, sizeof(*s));

		if (IS_ERR(s))
			return PTR_ERR(s);
		r = -EINVAL;
		if (khv_sregs_valid(vcpu, s)) {
			khv_vcpu_get_cpu(vcpu);
			r = khv_set_sregs(vcpu, s);
			khv_vcpu_put_cpu(vcpu);
		}
		kfree(s);
		return r;
	}
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		khv_vcpu_get_cpu(vcpu);
		r = khv_msrs_ioctl(vcpu, argp, ioctl == KVM_SET_MSRS);
		khv_vcpu_put_cpu(vcpu);
		return r;
	case KVM_SET_CPUID2:
		return khv_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return khv_get_cpuid2(vcpu, argp);
	case KVM_INTERRUPT:
	case KVM_NMI:
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
		return khv_events_ioctl(vcpu, ioctl, argp);
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
		return khv_state_ioctl(vcpu, ioctl, argp);
	case KVM_X86_SETUP_MCE:
	case KVM_X86_SET_MCE:
		/* SET_MCE reads CR4: the backend's state must be current. */
		khv_vcpu_get_cpu(vcpu);
		r = khv_mce_ioctl(vcpu, ioctl, argp);
		khv_vcpu_put_cpu(vcpu);
		return r;
	default:
		return -EINVAL;
	}
}

long khv_arch_vm_ioctl(struct khv_vm *vm, unsigned int ioctl,
		       unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	u64 addr;

	switch (ioctl) {
	case KVM_SET_TSS_ADDR:
		/*
		 * KVM keeps three pages there for real mode on VMX without
		 * unrestricted guest. khv requires unrestricted guest (and
		 * SVM needs none): the address is recorded, never used. As
		 * KVM, the three pages must fit below 4 GiB.
		 */
		if (arg > (unsigned int)(-3 * PAGE_SIZE))
			return -EINVAL;
		mutex_lock(&vm->lock);
		vm->arch.tss_addr = arg;
		mutex_unlock(&vm->lock);
		return 0;
	case KVM_SET_IDENTITY_MAP_ADDR:
		/* Likewise for the EPT identity map; only before vCPUs. */
		if (copy_from_user(&addr, argp, sizeof(addr)))
			return -EFAULT;
		mutex_lock(&vm->lock);
		if (vm->created_vcpus) {
			mutex_unlock(&vm->lock);
			return -EINVAL;
		}
		vm->arch.identity_map_addr = addr;
		mutex_unlock(&vm->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}
