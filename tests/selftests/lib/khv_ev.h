/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv selftest library, guests that take events: code written in assembler,
 * real-mode IVT and 32-bit flat protected-mode GDT/IDT set up by the host,
 * default handlers that report an unexpected vector, and helpers to run a
 * guest to its next port I/O exit.
 *
 * Memory map (on top of khv_test.h's 1 MiB real-mode guest):
 *   0x0000  real-mode IVT              0x0500  GDT (null, code32 0x08, data32 0x10)
 *   0x0600  IDT (256 gates, 32-bit)    0x1000  the guest's code (KHV_GUEST_CODE)
 *   0x2000+ handlers the test places   0x8000  top of the stack
 *   0xa000  one stub per vector: "mov $vector, %al; out %al, $0xee; hlt"
 * Every other byte holds HLT (0xf4), so a stray jump exits instead of
 * spinning: on the VMX lane a guest that never exits is never interrupted.
 */
#ifndef KHV_EV_H
#define KHV_EV_H

#include "khv_test.h"

#define EV_GDT		0x500
#define EV_IDT		0x600
#define EV_STUBS	0xa000
#define EV_STUB_SIZE	8
#define EV_STUB_PORT	0xee	/* a default handler ran: AL = vector */
#define EV_SEL_CODE	0x08
#define EV_SEL_DATA	0x10

/*
 * Guest code in assembler, assembled into the test program's .rodata:
 * EV_ASM(name, ".code16", "insn\n" "insn\n") defines name[] .. name_end[].
 * Use only position-independent code or explicit addresses: the bytes are
 * copied to wherever the test puts them.
 */
#define EV_ASM(name, mode, text)						\
	extern const uint8_t name[], name##_end[];				\
	asm(".pushsection .rodata\n" mode "\n" #name ":\n" text "\n"		\
	    #name "_end:\n.code64\n.popsection\n")
#define EV_LEN(name)	((size_t)(name##_end - name))

/* khv_guest_create, memory filled with HLT, code at 0x1000, stubs, and an
 * IVT whose every vector goes to its stub. */
void ev_create(struct khv_guest *g, const void *code, size_t len);
/* Copy bytes into guest memory at gpa. */
void ev_put(struct khv_guest *g, uint32_t gpa, const void *p, size_t len);
/* Real-mode IVT entry: vector -> 0000:off. */
void ev_ivt(struct khv_guest *g, unsigned int vec, uint16_t off);
/* 32-bit flat protected mode: GDT, IDT (every vector to its stub), SREGS
 * (CR0.PE, flat CS/DS/ES/FS/GS/SS, cr4 as given), EIP 0x1000, ESP 0x8000,
 * EFLAGS 2. Bails out if KVM_SET_SREGS fails. */
void ev_pmode32(struct khv_guest *g, uint64_t cr4);
/* 32-bit interrupt gate: vector -> EV_SEL_CODE:off. */
void ev_idt(struct khv_guest *g, unsigned int vec, uint32_t off);

/*
 * KVM_RUN, expecting port I/O on port in direction dir (KVM_EXIT_IO_IN or
 * _OUT). On a match returns true and stores the data (zero-extended) in
 * *val if val is not NULL; otherwise prints what happened instead.
 */
bool ev_run_io(struct khv_guest *g, int dir, uint16_t port, uint32_t *val);
/* KVM_RUN expecting exit reason `reason`; prints what happened otherwise. */
bool ev_run_exit(struct khv_guest *g, uint32_t reason);
/* Describe the last exit (diagnostic line). */
void ev_diag_exit(struct khv_guest *g, long r);
/* Put v (size bytes) into the data of a pending IN. */
void ev_io_in_data(struct khv_guest *g, uint32_t v);

/* KVM_GET_SUPPORTED_CPUID on the device; bails out on failure. free() it. */
struct kvm_cpuid2 *ev_supported_cpuid(int dev);
/* The entry for function/index, or NULL. */
struct kvm_cpuid_entry2 *ev_cpuid(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);

long ev_get_events(struct khv_guest *g, struct kvm_vcpu_events *ev);
long ev_set_events(struct khv_guest *g, struct kvm_vcpu_events *ev);
long ev_get_regs(struct khv_guest *g, struct kvm_regs *regs);
long ev_set_regs(struct khv_guest *g, struct kvm_regs *regs);
long ev_get_sregs(struct khv_guest *g, struct kvm_sregs *sregs);
long ev_set_sregs(struct khv_guest *g, struct kvm_sregs *sregs);

#endif
