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
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/fpu/xcr.h>
#include <asm/traps.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/x86_walk.h>

/* The instruction completed: RIP past it, and its interrupt shadow gone. */
static void khv_skip_insn(struct khv_vcpu *vcpu)
{
	vcpu->arch.rip = vcpu->arch.exit.next_rip;
	vcpu->arch.int_shadow = 0;
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

static u64 khv_addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/*
 * A fault while string I/O touches guest memory: #PF with CR2, or #GP for a
 * non-canonical address. Returns what the exit handler returns.
 */
static int khv_string_pio_fault(struct khv_vcpu *vcpu, struct kvm_sregs *s,
				int r, u32 err, u64 la)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;

	if (r == KHV_WALK_FAULT) {
		s->cr2 = la;
		ops->set_sregs(vcpu, s);
		khv_queue_exception(vcpu, PF_VECTOR, true, err);
		return 1;
	}
	if (r == KHV_WALK_NONCANONICAL) {
		khv_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	/* String I/O to or from MMIO is not supported. */
	if (r == KHV_MEM_NOT_RAM)
		return khv_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	return r;
}

/*
 * Where ins/outs access memory: ES:rDI for ins, seg:rSI for outs, with the
 * instruction's address size.
 */
static u64 khv_string_pio_la(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	const struct kvm_segment *segs[] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs,
	};
	u64 mask = khv_addr_mask(x->io.addr_size);
	u64 off = vcpu->arch.regs[x->io.in ? KHV_RDI : KHV_RSI] & mask;
	/* ins always uses ES; outs the segment the exit reports (ES..GS). */
	u8 seg = x->io.in ? 0 : min_t(u8, x->io.seg, 5);
	bool long64 = (s->efer & EFER_LMA) && s->cs.l;
	u64 base = segs[seg]->base;

	/* In 64-bit mode only FS and GS have a base. */
	if (long64 && seg != 4 && seg != 5)
		base = 0;
	return long64 ? base + off : (u32)(base + off);
}

/* After user space: store ins data, step rSI/rDI and rCX, maybe retire. */
static int khv_complete_string_pio(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	struct kvm_sregs *s = vcpu->arch.emul_sregs;
	unsigned int n = vcpu->arch.pio.count, bytes = n * x->io.size;
	u64 mask = khv_addr_mask(x->io.addr_size);
	int reg = x->io.in ? KHV_RDI : KHV_RSI;
	u64 *r = vcpu->arch.regs, la, fault_la;
	s64 step = (vcpu->arch.rflags & X86_EFLAGS_DF) ? -(s64)bytes : bytes;
	u32 err;
	int ret;

	if (x->io.in) {
		vcpu->vm->ops->get_sregs(vcpu, s);
		la = khv_string_pio_la(vcpu, s);
		ret = khv_linear_rw(vcpu, s, la, vcpu->pio_data, bytes,
				    KHV_ACC_WRITE, &err, &fault_la);
		if (ret)
			return khv_string_pio_fault(vcpu, s, ret, err, fault_la);
	}
	r[reg] = (r[reg] & ~mask) | ((r[reg] + step) & mask);
	if (x->io.rep)
		r[KHV_RCX] = (r[KHV_RCX] & ~mask) | ((r[KHV_RCX] - n) & mask);
	/* A rep that has iterations left runs again: RIP stays. */
	if (!x->io.rep || !(r[KHV_RCX] & mask))
		khv_skip_insn(vcpu);
	return 1;
}

/*
 * The address size and segment of ins/outs, from the instruction's prefixes,
 * for hardware whose exit does not report them (e.g. SVM without decode
 * assists under QEMU).
 */
static void khv_string_pio_decode(struct khv_vcpu *vcpu,
				  const struct kvm_sregs *s)
{
	struct khv_exit *x = &vcpu->arch.exit;
	bool long64 = (s->efer & EFER_LMA) && s->cs.l;
	bool big = (s->cr0 & X86_CR0_PE) && s->cs.db &&
		   !(vcpu->arch.rflags & X86_EFLAGS_VM);
	u8 def = long64 ? 8 : big ? 4 : 2, bytes[15];
	u64 la = long64 ? vcpu->arch.rip : (u32)(s->cs.base + vcpu->arch.rip);
	unsigned int i, len = min_t(unsigned int, sizeof(bytes),
				    PAGE_SIZE - offset_in_page(la));
	u64 fault_la;
	u32 err;

	x->io.addr_size = def;
	x->io.seg = 3;		/* DS */
	if (khv_linear_rw(vcpu, s, la, bytes, len, KHV_ACC_FETCH, &err, &fault_la))
		return;
	for (i = 0; i < len; i++) {
		switch (bytes[i]) {
		case 0x67:
			x->io.addr_size = long64 ? 4 : (def == 2 ? 4 : 2);
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			x->io.seg = (bytes[i] >> 3) & 3;
			break;
		case 0x64: case 0x65:
			x->io.seg = bytes[i] - 0x60;
			break;
		case 0x66: case 0xf0: case 0xf2: case 0xf3:
			break;
		default:
			if (long64 && (bytes[i] & 0xf0) == 0x40)
				break;	/* REX */
			return;
		}
	}
}

/*
 * ins/outs, with or without rep: as many elements per exit as fit in the
 * PIO data page (one when DF=1, where addresses run downwards).
 */
static int khv_string_pio(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	struct kvm_sregs *s = vcpu->arch.emul_sregs;
	struct kvm_run *run = vcpu->run;
	u64 mask, count = 1, la, fault_la;
	u32 err;
	int r;

	vcpu->vm->ops->get_sregs(vcpu, s);
	if (!x->io.addr_size)
		khv_string_pio_decode(vcpu, s);
	mask = khv_addr_mask(x->io.addr_size);
	if (x->io.rep) {
		count = vcpu->arch.regs[KHV_RCX] & mask;
		if (!count) {
			khv_skip_insn(vcpu);
			return 1;
		}
	}
	if (vcpu->arch.rflags & X86_EFLAGS_DF)
		count = 1;
	count = min_t(u64, count, PAGE_SIZE / x->io.size);

	if (!x->io.in) {
		la = khv_string_pio_la(vcpu, s);
		r = khv_linear_rw(vcpu, s, la, vcpu->pio_data, count * x->io.size,
				  0, &err, &fault_la);
		if (r)
			return khv_string_pio_fault(vcpu, s, r, err, fault_la);
	}
	vcpu->arch.pio.count = count;
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = x->io.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = x->io.size;
	run->io.port = x->io.port;
	run->io.count = count;
	run->io.data_offset = KHV_PIO_PAGE_OFFSET * PAGE_SIZE;
	vcpu->arch.complete_userspace = khv_complete_string_pio;
	return 0;
}

static int khv_exit_io(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	struct kvm_run *run = vcpu->run;

	if (x->io.string)
		return khv_string_pio(vcpu);

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

	u32 fn = r[KHV_RAX], idx = r[KHV_RCX];

	e = khv_cpuid_find(vcpu, fn, idx);
	r[KHV_RAX] = e ? e->eax : 0;
	r[KHV_RBX] = e ? e->ebx : 0;
	r[KHV_RCX] = e ? e->ecx : 0;
	r[KHV_RDX] = e ? e->edx : 0;
	/* Bits that follow the guest's state, as on a real CPU. */
	if (e && fn == 1 && (e->ecx & BIT(26))) {
		struct kvm_sregs *s = vcpu->arch.emul_sregs;

		vcpu->vm->ops->get_sregs(vcpu, s);
		r[KHV_RCX] &= ~BIT(27);
		if (s->cr4 & X86_CR4_OSXSAVE)
			r[KHV_RCX] |= BIT(27);	/* OSXSAVE */
	}
	if (e && fn == 0xd && idx == 0)
		r[KHV_RBX] = khv_xstate_size(vcpu->arch.xcr0);
	khv_skip_insn(vcpu);
	return 1;
}

static int khv_exit_msr(struct khv_vcpu *vcpu)
{
	u64 *r = vcpu->arch.regs, data;
	u32 index = r[KHV_RCX];

	if (vcpu->arch.exit.reason == KHV_EXIT_WRMSR) {
		data = (r[KHV_RDX] << 32) | (u32)r[KHV_RAX];
		if (khv_set_msr(vcpu, index, data, false))
			goto gp;
	} else {
		if (khv_get_msr(vcpu, index, &data))
			goto gp;
		r[KHV_RAX] = (u32)data;
		r[KHV_RDX] = data >> 32;
	}
	khv_skip_insn(vcpu);
	return 1;
gp:
	khv_queue_exception(vcpu, GP_VECTOR, true, 0);
	return 1;
}

static int khv_exit_stage2(struct khv_vcpu *vcpu)
{
	const struct khv_exit *x = &vcpu->arch.exit;
	int r = khv_s2_fault(vcpu, x->s2.gpa, x->s2.write);

	if (r == 0)
		return 1;
	if (r == KHV_S2_MMIO)
		return khv_emulate(vcpu);
	return r;
}

static int khv_exit_shutdown(struct khv_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

static int khv_exit_ud(struct khv_vcpu *vcpu)
{
	khv_queue_exception(vcpu, UD_VECTOR, false, 0);
	return 1;
}

static int khv_exit_unknown(struct khv_vcpu *vcpu);

#define KHV_DR7_GD	BIT(13)		/* general detect enable */
#define KHV_DR6_BD	BIT(13)		/* ... and its DR6 status bit */

static int khv_exit_none(struct khv_vcpu *vcpu)
{
	return 1;
}

/* The CPL, from the segment state (real mode 0, virtual-8086 mode 3). */
static unsigned int khv_cpl(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return 0;
	if (vcpu->arch.rflags & X86_EFLAGS_VM)
		return 3;
	return s->ss.dpl;
}

static bool khv_long64(const struct kvm_sregs *s)
{
	return (s->efer & EFER_LMA) && s->cs.l;
}

/* XSETBV: only XCR0 exists; checks as the SDM lists them (#UD, #GP). */
static int khv_exit_xsetbv(struct khv_vcpu *vcpu)
{
	struct kvm_sregs *s = vcpu->arch.emul_sregs;
	u64 *r = vcpu->arch.regs;
	u64 val = ((r[KHV_RDX] & 0xffffffffULL) << 32) | (u32)r[KHV_RAX];

	vcpu->vm->ops->get_sregs(vcpu, s);
	if (!(s->cr4 & X86_CR4_OSXSAVE)) {
		khv_queue_exception(vcpu, UD_VECTOR, false, 0);
		return 1;
	}
	if (khv_cpl(vcpu, s) || (u32)r[KHV_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    khv_set_xcr0(vcpu, val)) {
		khv_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	khv_skip_insn(vcpu);
	return 1;
}

/*
 * Find the GPR of a MOV to/from DRn at RIP (0f 21 /r, 0f 23 /r), for
 * backends whose exit does not say; also gives the instruction's end.
 * Returns false if the bytes are not such a MOV.
 */
static bool khv_decode_mov_dr(struct khv_vcpu *vcpu, const struct kvm_sregs *s,
			      int *gpr, u64 *next_rip)
{
	bool long64 = khv_long64(s);
	u64 la = long64 ? vcpu->arch.rip : (u32)(s->cs.base + vcpu->arch.rip);
	unsigned int i, len = min_t(unsigned int, 15, PAGE_SIZE - offset_in_page(la));
	u8 b[15], rex = 0;
	u64 fault_la;
	u32 err;

	if (khv_linear_rw(vcpu, s, la, b, len, KHV_ACC_FETCH, &err, &fault_la))
		return false;
	for (i = 0; i + 2 < len; i++) {
		if (long64 && (b[i] & 0xf0) == 0x40) {
			rex = b[i];
			continue;
		}
		if (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
		    b[i] == 0x26 || b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e ||
		    b[i] == 0x64 || b[i] == 0x65) {
			rex = 0;	/* REX counts only right before 0f */
			continue;
		}
		if (b[i] != 0x0f || (b[i + 1] != 0x21 && b[i + 1] != 0x23))
			return false;
		/* ModRM: the mod field is ignored, rm names the GPR. */
		*gpr = (b[i + 2] & 7) | ((rex & 1) << 3);
		*next_rip = vcpu->arch.rip + i + 3;
		return true;
	}
	return false;
}

/*
 * MOV to/from a debug register: every one exits, and the guest's registers
 * live in vcpu->arch (the backend loads DR0-3 into the hardware only while
 * DR7 arms a breakpoint). SDM vol. 3, 18.2 and the MOV DR page.
 */
static int khv_exit_dr(struct khv_vcpu *vcpu)
{
	struct khv_exit *x = &vcpu->arch.exit;
	struct kvm_sregs *s = vcpu->arch.emul_sregs;
	struct khv_vcpu_arch *a = &vcpu->arch;
	unsigned int dr = x->dr.dr & 7;
	int gpr = x->dr.gpr;
	u64 next_rip = x->next_rip, val;

	vcpu->vm->ops->get_sregs(vcpu, s);
	/* The backend may not know the GPR or the instruction's end. */
	if ((gpr < 0 || next_rip <= vcpu->arch.rip) &&
	    !khv_decode_mov_dr(vcpu, s, &gpr, &next_rip))
		return khv_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	if ((dr == 4 || dr == 5) && (s->cr4 & X86_CR4_DE)) {
		khv_queue_exception(vcpu, UD_VECTOR, false, 0);
		return 1;
	}
	if (khv_cpl(vcpu, s)) {
		khv_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	/* General detect: the access itself raises #DB (DR6.BD). */
	if (a->dr7 & KHV_DR7_GD) {
		a->dr6 = (a->dr6 & ~DR_STEP) | DR6_RESERVED | KHV_DR6_BD;
		a->dr7 &= ~KHV_DR7_GD;
		khv_queue_exception(vcpu, DB_VECTOR, false, 0);
		return 1;
	}
	if (dr == 4 || dr == 5)
		dr += 2;
	if (x->dr.write) {
		val = a->regs[gpr];
		if (!khv_long64(s))
			val = (u32)val;
		switch (dr) {
		case 0: case 1: case 2: case 3:
			a->db[dr] = val;
			break;
		case 6:
			if (val >> 32)
				goto gp;
			/* Bits 4-11, 16-31 read as 1, 12 and 14-15 as 0... */
			a->dr6 = (val & 0x0001e00f) | DR6_RESERVED;
			break;
		default:
			if (val >> 32)
				goto gp;
			/* ... bit 10 of DR7 reads as 1, 11, 12, 14, 15 as 0. */
			a->dr7 = (val & 0xffff23ffULL) | 0x400;
			break;
		}
	} else {
		val = dr < 4 ? a->db[dr] : dr == 6 ? a->dr6 : a->dr7;
		a->regs[gpr] = khv_long64(s) ? val : (u32)val;
	}
	vcpu->arch.rip = next_rip;
	vcpu->arch.int_shadow = 0;
	return 1;
gp:
	khv_queue_exception(vcpu, GP_VECTOR, true, 0);
	return 1;
}

static int khv_exit_vendor(struct khv_vcpu *vcpu)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;

	if (!ops->handle_exit)
		return khv_exit_unknown(vcpu);
	return ops->handle_exit(vcpu);
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
	[KHV_EXIT_XSETBV]	= khv_exit_xsetbv,
	[KHV_EXIT_IRQ_WINDOW]	= khv_exit_none,
	[KHV_EXIT_NMI_WINDOW]	= khv_exit_none,
	[KHV_EXIT_DR]		= khv_exit_dr,
	[KHV_EXIT_VENDOR]	= khv_exit_vendor,
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
