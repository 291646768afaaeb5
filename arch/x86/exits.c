// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a guest exit means, decided once for both backends: the backend has
 * turned its hardware exit into a struct khv_exit; here each reason has a
 * handler (a table indexed by reason). A handler returns > 0 to re-enter
 * the guest, 0 to return to user space with vcpu->run filled in, or -errno
 * for KVM_RUN to fail.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/nospec.h>

#include <khv/khv.h>
#include <khv/vendor.h>

static void khv_skip_insn(struct khv_vcpu *vcpu)
{
	vcpu->arch.rip = vcpu->arch.exit.next_rip;
}

static int khv_internal_error(struct khv_vcpu *vcpu, u32 suberror)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = vcpu->arch.exit.hw_reason;
	run->internal.data[1] = vcpu->arch.cpu;
	return 0;
}

static int khv_complete_pio(struct khv_vcpu *vcpu)
{
	if (vcpu->arch.pio.in) {
		u64 *rax = &vcpu->arch.regs[KHV_RAX];
		u32 val = 0;

		memcpy(&val, vcpu->pio_data, vcpu->arch.pio.size);
		switch (vcpu->arch.pio.size) {
		case 1:
			*rax = (*rax & ~0xffULL) | (u8)val;
			break;
		case 2:
			*rax = (*rax & ~0xffffULL) | (u16)val;
			break;
		default:
			/* A 32-bit destination zero-extends. */
			*rax = val;
			break;
		}
	}
	khv_skip_insn(vcpu);
	return 1;
}

static int khv_exit_io(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	struct kvm_run *run = vcpu->run;

	if (x->io.string)
		/* String I/O needs the instruction emulator: not yet. */
		return khv_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);

	vcpu->arch.pio.port = x->io.port;
	vcpu->arch.pio.size = x->io.size;
	vcpu->arch.pio.in = x->io.in;
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = x->io.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = x->io.size;
	run->io.port = x->io.port;
	run->io.count = 1;
	run->io.data_offset = KHV_PIO_PAGE_OFFSET * PAGE_SIZE;
	if (!x->io.in)
		memcpy(vcpu->pio_data, &vcpu->arch.regs[KHV_RAX], x->io.size);
	vcpu->arch.complete_userspace = khv_complete_pio;
	return 0;
}

static int khv_exit_hlt(struct khv_vcpu *vcpu)
{
	khv_skip_insn(vcpu);
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

static int khv_exit_cpuid(struct khv_vcpu *vcpu)
{
	u64 *r = vcpu->arch.regs;
	const struct kvm_cpuid_entry2 *e;

	e = khv_cpuid_find(vcpu, (u32)r[KHV_RAX], (u32)r[KHV_RCX]);
	r[KHV_RAX] = e ? e->eax : 0;
	r[KHV_RBX] = e ? e->ebx : 0;
	r[KHV_RCX] = e ? e->ecx : 0;
	r[KHV_RDX] = e ? e->edx : 0;
	khv_skip_insn(vcpu);
	return 1;
}

static int khv_exit_msr(struct khv_vcpu *vcpu)
{
	/* No MSR is emulated yet: the guest gets #GP(0). */
	vcpu->vm->ops->queue_exception(vcpu, GP_VECTOR, true, 0);
	return 1;
}

static int khv_exit_stage2(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	int r = khv_s2_fault(vcpu, x->s2.gpa, x->s2.write);

	if (r == 0)
		return 1;
	if (r == KHV_S2_MMIO)
		/* MMIO needs the instruction emulator: not yet. */
		return khv_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	return r;
}

static int khv_exit_shutdown(struct khv_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

static int khv_exit_ud(struct khv_vcpu *vcpu)
{
	vcpu->vm->ops->queue_exception(vcpu, UD_VECTOR, false, 0);
	return 1;
}

static int khv_exit_none(struct khv_vcpu *vcpu)
{
	return 1;
}

static int khv_exit_fail_entry(struct khv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = vcpu->arch.exit.hw_reason;
	run->fail_entry.cpu = vcpu->arch.cpu;
	return 0;
}

static int khv_exit_unknown(struct khv_vcpu *vcpu)
{
	pr_warn_ratelimited("vCPU %u: unexpected exit 0x%llx\n",
			    vcpu->vcpu_id, vcpu->arch.exit.hw_reason);
	return khv_internal_error(vcpu, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
}

static int (*const khv_exit_handlers[KHV_NR_EXITS])(struct khv_vcpu *) = {
	[KHV_EXIT_NONE]		= khv_exit_none,
	[KHV_EXIT_IO]		= khv_exit_io,
	[KHV_EXIT_HLT]		= khv_exit_hlt,
	[KHV_EXIT_CPUID]	= khv_exit_cpuid,
	[KHV_EXIT_RDMSR]	= khv_exit_msr,
	[KHV_EXIT_WRMSR]	= khv_exit_msr,
	[KHV_EXIT_STAGE2_FAULT]	= khv_exit_stage2,
	[KHV_EXIT_SHUTDOWN]	= khv_exit_shutdown,
	[KHV_EXIT_UD]		= khv_exit_ud,
	[KHV_EXIT_FAIL_ENTRY]	= khv_exit_fail_entry,
	[KHV_EXIT_UNKNOWN]	= khv_exit_unknown,
};

int khv_handle_exit(struct khv_vcpu *vcpu)
{
	unsigned int reason = vcpu->arch.exit.reason;

	if (reason >= KHV_NR_EXITS)
		return khv_exit_unknown(vcpu);
	reason = array_index_nospec(reason, KHV_NR_EXITS);
	if (!khv_exit_handlers[reason])
		return khv_exit_unknown(vcpu);
	return khv_exit_handlers[reason](vcpu);
}
