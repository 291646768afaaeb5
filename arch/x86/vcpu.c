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
#include <asm/fpu/api.h>

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
	khv_msr_reset(vcpu);
}

int khv_arch_vcpu_create(struct khv_vcpu *vcpu)
{
	vcpu->arch.cpu = -1;
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
	ops->run(vcpu);
	WRITE_ONCE(vcpu->mode, KHV_OUTSIDE_GUEST);
	/* Host interrupts that made the guest exit are taken here. */
	local_irq_enable();
	preempt_enable();
	return khv_handle_exit(vcpu);
}

static int khv_vcpu_run(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r = 1;

	khv_vcpu_get_cpu(vcpu);
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
	while (r > 0)
		r = khv_vcpu_enter_guest(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, false);
out:
	vcpu->arch.exit_rip = vcpu->arch.rip;
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

/*
 * KVM_SET_SREGS validity: what KVM refuses with -EINVAL, from the SDM's
 * rules for CR0/CR4/EFER (reserved bits, and combinations no CPU accepts).
 */
static bool khv_sregs_valid(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	u64 cr4_ok = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		     X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		     X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	u64 efer_ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	if (s->cr0 >> 32)
		return false;
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		return false;
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return false;
	if (s->cr4 & ~cr4_ok)
		return false;
	if (s->efer & ~efer_ok)
		return false;
	if (s->efer & EFER_LMA) {
		/* Long mode active needs paging, PAE, and LME. */
		if (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE) ||
		    !(s->efer & EFER_LME))
			return false;
	} else if ((s->cr0 & X86_CR0_PG) && (s->efer & EFER_LME)) {
		return false;
	}
	return true;
}

long khv_arch_vcpu_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	const struct khv_vendor_ops *ops = vcpu->vm->ops;
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
		ops->get_sregs(vcpu, s);
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
			ops->set_sregs(vcpu, s);
			khv_vcpu_put_cpu(vcpu);
			r = 0;
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
	default:
		return -EINVAL;
	}
}
