// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated accesses: an instruction that touched MMIO (a guest-physical
 * address no memslot backs, or a write to a read-only slot) is run by the
 * instruction emulator (arch/x86/emulate.c) against guest memory, and its
 * MMIO access goes to user space as KVM_EXIT_MMIO.
 *
 * Contract with the emulator: an MMIO read returns KHV_EMUL_EXIT the first
 * time; user space completes it (kvm_run.mmio.data); the instruction is
 * then emulated again from scratch, and the read returns that data. An
 * MMIO write completes at once and is reported to user space after the
 * instruction has retired, as KVM does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/x86_emulate.h>
#include <khv/x86_walk.h>

static struct khv_vcpu *emul_vcpu(struct khv_emul_ctxt *c)
{
	return c->priv;
}

static int khv_mmio_access(struct khv_vcpu *vcpu, u64 gpa, void *buf,
			   unsigned int len, bool write)
{
	struct khv_mmio *m = &vcpu->arch.mmio;

	if (len > sizeof(m->data))
		return KHV_EMUL_UNHANDLED;
	if (write) {
		/* One MMIO write per instruction (what the emulator does). */
		if (m->write_pending)
			return KHV_EMUL_UNHANDLED;
		m->write_pending = true;
		m->gpa = gpa;
		m->len = len;
		memcpy(m->data, buf, len);
		return KHV_EMUL_OK;
	}
	if (m->read_done && m->gpa == gpa && m->len == len) {
		memcpy(buf, m->data, len);
		m->read_done = false;
		return KHV_EMUL_OK;
	}
	m->read_done = false;
	m->read_pending = true;
	m->gpa = gpa;
	m->len = len;
	return KHV_EMUL_EXIT;
}

static int khv_emul_mem(struct khv_emul_ctxt *c, u64 la, void *buf,
			unsigned int len, u32 access)
{
	struct khv_vcpu *vcpu = emul_vcpu(c);
	const struct kvm_sregs *s = vcpu->arch.emul_sregs;
	bool write = access & KHV_ACC_WRITE;
	u64 fault_la, gpa;
	u32 err = 0;
	int r;

	if (s->ss.dpl == 3)
		access |= KHV_ACC_USER;
	/*
	 * Re-executing an instruction whose MMIO read user space completed:
	 * the read gets user space's data even if a memslot now covers the
	 * address (the VMM changed its memory map meanwhile), as in KVM.
	 */
	if (vcpu->arch.mmio.read_done && !write && !(access & KHV_ACC_FETCH) &&
	    offset_in_page(la) + len <= PAGE_SIZE) {
		if (!(s->cr0 & X86_CR0_PG))
			gpa = (u32)la;
		else if (khv_translate(vcpu, s, la, access, &gpa, &err))
			gpa = ~0ULL;
		if (gpa == vcpu->arch.mmio.gpa && len == vcpu->arch.mmio.len)
			return khv_mmio_access(vcpu, gpa, buf, len, false);
	}
	r = khv_linear_rw(vcpu, s, la, buf, len, access, &err, &fault_la);
	if (!r)
		return KHV_EMUL_OK;
	if (r == KHV_WALK_FAULT) {
		c->exception.vector = KHV_EXC_PF;
		c->exception.has_error_code = true;
		c->exception.error_code = err;
		c->exception.cr2 = fault_la;
		return KHV_EMUL_FAULT;
	}
	if (r == KHV_WALK_NONCANONICAL) {
		c->exception.vector = KHV_EXC_GP;
		c->exception.has_error_code = true;
		c->exception.error_code = 0;
		return KHV_EMUL_FAULT;
	}
	if (r != KHV_MEM_NOT_RAM) {
		vcpu->arch.emul_error = r < 0 ? r : -EIO;
		return KHV_EMUL_UNHANDLED;
	}
	/* Not RAM: MMIO. Code is never fetched from MMIO. */
	if (access & KHV_ACC_FETCH)
		return KHV_EMUL_UNHANDLED;
	/* An MMIO access within one page of guest-linear space. */
	if (offset_in_page(la) + len > PAGE_SIZE)
		return KHV_EMUL_UNHANDLED;
	if (s->cr0 & X86_CR0_PG) {
		if (khv_translate(vcpu, s, la, access, &gpa, &err))
			return KHV_EMUL_UNHANDLED;
	} else {
		gpa = (u32)la;
	}
	return khv_mmio_access(vcpu, gpa, buf, len, write);
}

static int khv_emul_fetch(struct khv_emul_ctxt *c, u64 la, void *buf,
			  unsigned int len)
{
	return khv_emul_mem(c, la, buf, len, KHV_ACC_FETCH);
}

static int khv_emul_read(struct khv_emul_ctxt *c, u64 la, void *buf,
			 unsigned int len)
{
	return khv_emul_mem(c, la, buf, len, 0);
}

static int khv_emul_write(struct khv_emul_ctxt *c, u64 la, const void *buf,
			  unsigned int len)
{
	return khv_emul_mem(c, la, (void *)buf, len, KHV_ACC_WRITE);
}

static const struct khv_emul_ops khv_emul_ops = {
	.fetch = khv_emul_fetch,
	.read = khv_emul_read,
	.write = khv_emul_write,
};

static void khv_emul_seg(struct khv_emul_seg *e, const struct kvm_segment *k)
{
	bool code = k->s && (k->type & 8);

	e->base = k->base;
	e->limit = k->limit;
	e->sel = k->selector;
	e->expand_down = k->s && !code && (k->type & 4);
	e->writable = k->s && !code && (k->type & 2);
	e->big = k->db;
	e->exec_only = code && !(k->type & 2);
	e->unusable = k->unusable || !k->present;
}

static enum khv_cpu_mode khv_cpu_mode(const struct kvm_sregs *s, u64 rflags)
{
	if (!(s->cr0 & X86_CR0_PE))
		return KHV_MODE_REAL;
	if (rflags & X86_EFLAGS_VM)
		return KHV_MODE_PROT16;
	if ((s->efer & EFER_LMA) && s->cs.l)
		return KHV_MODE_LONG64;
	return s->cs.db ? KHV_MODE_PROT32 : KHV_MODE_PROT16;
}

static void khv_inject(struct khv_vcpu *vcpu, struct kvm_sregs *s,
		       const struct khv_emul_ctxt *c)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;

	if (c->exception.vector == KHV_EXC_PF) {
		s->cr2 = c->exception.cr2;
		ops->set_sregs(vcpu, s);
	}
	khv_queue_exception(vcpu, c->exception.vector,
			     c->exception.has_error_code,
			     c->exception.error_code);
}

static int khv_emulate_internal_error(struct khv_vcpu *vcpu,
				      const struct khv_emul_ctxt *c)
{
	struct kvm_run *run = vcpu->run;
	unsigned int n = min_t(unsigned int, c->d.fetched, 8);

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 3;
	run->internal.data[0] = vcpu->arch.rip;
	run->internal.data[1] = n;
	run->internal.data[2] = 0;
	memcpy(&run->internal.data[2], c->d.bytes, n);
	return 0;
}

static int khv_complete_mmio_read(struct khv_vcpu *vcpu);

/*
 * Emulate the instruction at CS:RIP. Returns > 0 to re-enter the guest,
 * 0 to exit to user space (vcpu->run filled in), -errno to fail KVM_RUN.
 */
int khv_emulate(struct khv_vcpu *vcpu)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;
	struct khv_emul_ctxt *c = vcpu->arch.emul;
	struct kvm_sregs *s = vcpu->arch.emul_sregs;
	struct khv_mmio *m = &vcpu->arch.mmio;
	struct kvm_run *run = vcpu->run;
	int r;

	ops->get_sregs(vcpu, s);
	memset(c, 0, sizeof(*c));
	memcpy(c->regs, vcpu->arch.regs, sizeof(c->regs));
	c->rip = vcpu->arch.rip;
	c->rflags = vcpu->arch.rflags;
	khv_emul_seg(&c->seg[KHV_SEG_ES], &s->es);
	khv_emul_seg(&c->seg[KHV_SEG_CS], &s->cs);
	khv_emul_seg(&c->seg[KHV_SEG_SS], &s->ss);
	khv_emul_seg(&c->seg[KHV_SEG_DS], &s->ds);
	khv_emul_seg(&c->seg[KHV_SEG_FS], &s->fs);
	khv_emul_seg(&c->seg[KHV_SEG_GS], &s->gs);
	c->mode = khv_cpu_mode(s, c->rflags);
	c->la57 = s->cr4 & X86_CR4_LA57;
	c->ops = &khv_emul_ops;
	c->priv = vcpu;
	vcpu->arch.emul_error = 0;
	m->write_pending = false;
	m->read_pending = false;

	r = khv_emulate_insn(c);
	switch (r) {
	case KHV_EMUL_OK:
		memcpy(vcpu->arch.regs, c->regs, sizeof(c->regs));
		vcpu->arch.rip = c->rip;
		vcpu->arch.int_shadow = 0;
		vcpu->arch.rflags = c->rflags;
		if (!m->write_pending)
			return 1;
		run->exit_reason = KVM_EXIT_MMIO;
		run->mmio.phys_addr = m->gpa;
		run->mmio.len = m->len;
		run->mmio.is_write = 1;
		memcpy(run->mmio.data, m->data, m->len);
		return 0;
	case KHV_EMUL_EXIT:
		run->exit_reason = KVM_EXIT_MMIO;
		run->mmio.phys_addr = m->gpa;
		run->mmio.len = m->len;
		run->mmio.is_write = 0;
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		vcpu->arch.complete_userspace = khv_complete_mmio_read;
		return 0;
	case KHV_EMUL_FAULT:
		khv_inject(vcpu, s, c);
		return 1;
	default:
		if (vcpu->arch.emul_error)
			return vcpu->arch.emul_error;
		return khv_emulate_internal_error(vcpu, c);
	}
}

static int khv_complete_mmio_read(struct khv_vcpu *vcpu)
{
	struct khv_mmio *m = &vcpu->arch.mmio;

	memcpy(m->data, vcpu->run->mmio.data, m->len);
	m->read_done = true;
	return khv_emulate(vcpu);
}

int khv_emulate_init(struct khv_vcpu *vcpu)
{
	vcpu->arch.emul = kzalloc(sizeof(*vcpu->arch.emul), GFP_KERNEL_ACCOUNT);
	vcpu->arch.emul_sregs = kzalloc(sizeof(*vcpu->arch.emul_sregs),
					GFP_KERNEL_ACCOUNT);
	if (!vcpu->arch.emul || !vcpu->arch.emul_sregs) {
		khv_emulate_free(vcpu);
		return -ENOMEM;
	}
	return 0;
}

void khv_emulate_free(struct khv_vcpu *vcpu)
{
	kfree(vcpu->arch.emul);
	kfree(vcpu->arch.emul_sregs);
	vcpu->arch.emul = NULL;
	vcpu->arch.emul_sregs = NULL;
}
