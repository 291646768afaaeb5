// SPDX-License-Identifier: GPL-2.0-only
/* khv selftest library, guests that take events: see khv_ev.h. */
#include <sys/ioctl.h>

#include "khv_ev.h"

void ev_put(struct khv_guest *g, uint32_t gpa, const void *p, size_t len)
{
	if (gpa + len > g->mem_size)
		tap_bail("ev_put 0x%x+%zu outside guest memory", gpa, len);
	memcpy(g->mem + gpa, p, len);
}

void ev_ivt(struct khv_guest *g, unsigned int vec, uint16_t off)
{
	uint8_t e[4] = { off & 0xff, off >> 8, 0, 0 };

	ev_put(g, vec * 4, e, sizeof(e));
}

void ev_create(struct khv_guest *g, const void *code, size_t len)
{
	unsigned int v;

	khv_guest_create(g, code, len);
	memset(g->mem, 0xf4, g->mem_size);
	ev_put(g, KHV_GUEST_CODE, code, len);
	for (v = 0; v < 256; v++) {
		/* mov $v, %al; out %al, $EV_STUB_PORT; 1: hlt; jmp 1b; hlt */
		uint8_t stub[EV_STUB_SIZE] = {
			0xb0, v, 0xe6, EV_STUB_PORT, 0xf4, 0xeb, 0xfd, 0xf4,
		};

		ev_put(g, EV_STUBS + v * EV_STUB_SIZE, stub, sizeof(stub));
		ev_ivt(g, v, EV_STUBS + v * EV_STUB_SIZE);
	}
}

void ev_idt(struct khv_guest *g, unsigned int vec, uint32_t off)
{
	uint32_t gate[2] = {
		(off & 0xffff) | (EV_SEL_CODE << 16),
		(off & 0xffff0000) | 0x8e00,	/* present, DPL 0, 32-bit interrupt gate */
	};

	ev_put(g, EV_IDT + vec * 8, gate, sizeof(gate));
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

void ev_pmode32(struct khv_guest *g, uint64_t cr4)
{
	static const uint64_t gdt[3] = {
		0,
		0x00cf9b000000ffffULL,	/* 0x08: code, 32-bit, 4 GiB, accessed */
		0x00cf93000000ffffULL,	/* 0x10: data, 32-bit, 4 GiB, accessed */
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	unsigned int v;
	long r;

	ev_put(g, EV_GDT, gdt, sizeof(gdt));
	for (v = 0; v < 256; v++)
		ev_idt(g, v, EV_STUBS + v * EV_STUB_SIZE);
	if (ev_get_sregs(g, &sregs))
		tap_bail("KVM_GET_SREGS");
	sregs.cr0 |= 1;	/* PE */
	sregs.cr4 = cr4;
	flat(&sregs.cs, EV_SEL_CODE, 0xb);
	flat(&sregs.ds, EV_SEL_DATA, 0x3);
	flat(&sregs.es, EV_SEL_DATA, 0x3);
	flat(&sregs.fs, EV_SEL_DATA, 0x3);
	flat(&sregs.gs, EV_SEL_DATA, 0x3);
	flat(&sregs.ss, EV_SEL_DATA, 0x3);
	sregs.gdt.base = EV_GDT;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = EV_IDT;
	sregs.idt.limit = 256 * 8 - 1;
	r = ev_set_sregs(g, &sregs);
	if (r)
		tap_bail("KVM_SET_SREGS (32-bit protected mode, cr4 0x%llx): %s",
			 (unsigned long long)cr4, strerror((int)-r));
	memset(&regs, 0, sizeof(regs));
	regs.rip = KHV_GUEST_CODE;
	regs.rsp = 0x8000;
	regs.rflags = 2;
	if (ev_set_regs(g, &regs))
		tap_bail("KVM_SET_REGS");
}

void ev_diag_exit(struct khv_guest *g, long r)
{
	struct kvm_run *run = g->run;
	struct kvm_regs regs;

	ev_get_regs(g, &regs);
	if (r) {
		tap_diag("  KVM_RUN: %s (rip 0x%llx)", strerror((int)-r), regs.rip);
		return;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint32_t v = 0;

		memcpy(&v, (char *)run + run->io.data_offset,
		       run->io.size <= 4 ? run->io.size : 4);
		if (run->io.port == EV_STUB_PORT)
			tap_diag("  the guest took an unexpected vector %u (rip 0x%llx)",
				 v & 0xff, regs.rip);
		else
			tap_diag("  exit IO %s port 0x%x size %u data 0x%x (rip 0x%llx)",
				 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
				 run->io.port, run->io.size, v, regs.rip);
		break;
	}
	case KVM_EXIT_INTERNAL_ERROR:
		tap_diag("  exit INTERNAL_ERROR suberror %u (rip 0x%llx)",
			 run->internal.suberror, regs.rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		tap_diag("  exit FAIL_ENTRY reason 0x%llx (rip 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			 regs.rip);
		break;
	default:
		tap_diag("  exit %s (%u) (rip 0x%llx)", khv_exit_name(run->exit_reason),
			 run->exit_reason, regs.rip);
	}
}

bool ev_run_io(struct khv_guest *g, int dir, uint16_t port, uint32_t *val)
{
	struct kvm_run *run = g->run;
	long r = khv_guest_run(g);

	if (r || run->exit_reason != KVM_EXIT_IO || run->io.direction != dir ||
	    run->io.port != port || run->io.count != 1) {
		tap_diag("  wanted %s port 0x%x:", dir == KVM_EXIT_IO_OUT ? "out" : "in", port);
		ev_diag_exit(g, r);
		return false;
	}
	if (val) {
		*val = 0;
		memcpy(val, (char *)run + run->io.data_offset,
		       run->io.size <= 4 ? run->io.size : 4);
	}
	return true;
}

bool ev_run_exit(struct khv_guest *g, uint32_t reason)
{
	long r = khv_guest_run(g);

	if (r || g->run->exit_reason != reason) {
		tap_diag("  wanted exit %s:", khv_exit_name(reason));
		ev_diag_exit(g, r);
		return false;
	}
	return true;
}

void ev_io_in_data(struct khv_guest *g, uint32_t v)
{
	memcpy((char *)g->run + g->run->io.data_offset, &v,
	       g->run->io.size <= 4 ? g->run->io.size : 4);
}

struct kvm_cpuid2 *ev_supported_cpuid(int dev)
{
	int n = 256;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		long r;

		if (!c)
			tap_bail("calloc");
		c->nent = n;
		r = khv_ioctl_p(dev, KVM_GET_SUPPORTED_CPUID, c);
		if (r == 0)
			return c;
		free(c);
		if (r != -E2BIG || n > 4096)
			tap_bail("KVM_GET_SUPPORTED_CPUID: %s", strerror((int)-r));
		n *= 2;
	}
}

struct kvm_cpuid_entry2 *ev_cpuid(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != fn)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != idx)
			continue;
		return e;
	}
	return NULL;
}

long ev_get_events(struct khv_guest *g, struct kvm_vcpu_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	return khv_ioctl_p(g->vcpu, KVM_GET_VCPU_EVENTS, ev);
}

long ev_set_events(struct khv_guest *g, struct kvm_vcpu_events *ev)
{
	return khv_ioctl_p(g->vcpu, KVM_SET_VCPU_EVENTS, ev);
}

long ev_get_regs(struct khv_guest *g, struct kvm_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	return khv_ioctl_p(g->vcpu, KVM_GET_REGS, regs);
}

long ev_set_regs(struct khv_guest *g, struct kvm_regs *regs)
{
	return khv_ioctl_p(g->vcpu, KVM_SET_REGS, regs);
}

long ev_get_sregs(struct khv_guest *g, struct kvm_sregs *sregs)
{
	memset(sregs, 0, sizeof(*sregs));
	return khv_ioctl_p(g->vcpu, KVM_GET_SREGS, sregs);
}

long ev_set_sregs(struct khv_guest *g, struct kvm_sregs *sregs)
{
	return khv_ioctl_p(g->vcpu, KVM_SET_SREGS, sregs);
}
