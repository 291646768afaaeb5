// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events with a user-space interrupt controller (no KVM_CREATE_IRQCHIP):
 *
 * - the interrupt-window protocol: kvm_run's if_flag and
 *   ready_for_interrupt_injection, request_interrupt_window and
 *   KVM_EXIT_IRQ_WINDOW_OPEN (not while IF=0, and only after the
 *   instruction in STI's shadow); KVM_INTERRUPT then delivers the vector
 *   through the real-mode IVT, before the instruction the guest was at;
 * - KVM_NMI through IVT[2]; a second NMI is held until the handler's IRET;
 *   KVM_GET_VCPU_EVENTS' nmi.pending/nmi.masked along the way, and an NMI
 *   held by nmi.masked set from user space;
 * - an exception injected with KVM_SET_VCPU_EVENTS (#GP with an error code)
 *   into a 32-bit protected-mode IDT handler;
 * - KVM_SET_VCPU_EVENTS argument checks, interrupt.shadow round trip, and
 *   the flags KVM_GET_VCPU_EVENTS reports.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_ev.h"

/* --- interrupt window (real mode) --- */
EV_ASM(code_win, ".code16",
	"cli\n"
	"out %al, $0x10\n"
	"out %al, $0x11\n"
	"sti\n"
	"mov $1, %cx\n"		/* in STI's shadow */
	"win_out12:\n"
	"out %al, $0x12\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t win_out12[];

/* IVT[0x20] -> 0x2000 */
EV_ASM(irq20_handler, ".code16",
	"mov $0x20, %al\n"
	"out %al, $0x70\n"
	"iret\n");

/* Placed at 0x1100: runs with a MOV SS shadow set from user space. */
EV_ASM(code_shadow, ".code16",
	"mov $2, %dx\n"
	"shadow_out13:\n"
	"out %al, $0x13\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t shadow_out13[];
#define SHADOW_CODE	0x1100

/* --- NMI (real mode) --- */
EV_ASM(code_nmi, ".code16",
	"out %al, $0x31\n"
	"out %al, $0x32\n"
	"out %al, $0x33\n"
	"1: hlt\n"
	"jmp 1b\n");

/* IVT[2] -> 0x2100 */
EV_ASM(nmi_handler, ".code16",
	"out %al, $0x40\n"
	"out %al, $0x41\n"
	"iret\n");

/* --- exception injection (32-bit protected mode) --- */
EV_ASM(code_exc, ".code32",
	"out %al, $0x52\n"
	"1: hlt\n"
	"jmp 1b\n");

/* IDT[13] -> 0x2000: report the error code and the EIP pushed. */
EV_ASM(gp_handler, ".code32",
	"pop %eax\n"
	"out %eax, $0x50\n"
	"pop %eax\n"
	"out %eax, $0x51\n"
	"1: hlt\n"
	"jmp 1b\n");

#define EVENTS_FLAGS_STOCK (KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW | \
			    KVM_VCPUEVENT_VALID_SMM)

static void test_window(void)
{
	bool vmx = !strcmp(khv_lane(), "vmx");
	/* The svm and debug lanes are SVM under QEMU TCG. */
	bool svm = !strcmp(khv_lane(), "svm") || !strcmp(khv_lane(), "debug"), tcg = svm;
	struct kvm_interrupt irq = { .irq = 256 };
	struct kvm_vcpu_events ev;
	struct khv_guest g;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint32_t v = 0;
	bool ok;
	long r;

	ev_create(&g, code_win, EV_LEN(code_win));
	ev_put(&g, 0x2000, irq20_handler, EV_LEN(irq20_handler));
	ev_ivt(&g, 0x20, 0x2000);
	run = g.run;

	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_INTERRUPT, &irq), -EINVAL,
		  "KVM_INTERRUPT with irq 256: EINVAL");

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, NULL);
	tap_ok(ok && run->if_flag == 0 && run->ready_for_interrupt_injection == 0,
	       "after CLI: if_flag %u, ready_for_interrupt_injection %u (want 0, 0)",
	       run->if_flag, run->ready_for_interrupt_injection);

	run->request_interrupt_window = 1;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, NULL);
	tap_ok(ok && run->if_flag == 0 && run->ready_for_interrupt_injection == 0,
	       "request_interrupt_window with IF=0: no window exit, the guest runs on "
	       "(if_flag %u, ready %u)", run->if_flag, run->ready_for_interrupt_injection);

	ok = ev_run_exit(&g, KVM_EXIT_IRQ_WINDOW_OPEN);
	tap_ok(ok && run->if_flag == 1 && run->ready_for_interrupt_injection == 1,
	       "STI: KVM_EXIT_IRQ_WINDOW_OPEN, if_flag %u, ready_for_interrupt_injection %u",
	       run->if_flag, run->ready_for_interrupt_injection);
	ev_get_regs(&g, &regs);
	tap_ok(ok && regs.rip == KHV_GUEST_CODE + (uint64_t)(win_out12 - code_win) &&
	       (uint16_t)regs.rcx == 1,
	       "the window opens after the instruction in STI's shadow (rip 0x%llx, cx %llu)",
	       regs.rip, regs.rcx & 0xffff);
	ev_get_events(&g, &ev);
	tap_ok(ev.interrupt.shadow == 0 && ev.interrupt.injected == 0,
	       "at the window: interrupt.shadow %u, interrupt.injected %u",
	       ev.interrupt.shadow, ev.interrupt.injected);

	run->request_interrupt_window = 0;
	irq.irq = 0x20;
	r = khv_ioctl_p(g.vcpu, KVM_INTERRUPT, &irq);
	ev_get_events(&g, &ev);
	tap_ok(r == 0 && ev.interrupt.injected == 1 && ev.interrupt.nr == 0x20,
	       "KVM_INTERRUPT 0x20 (%ld): GET_VCPU_EVENTS interrupt.injected %u nr 0x%x",
	       r, ev.interrupt.injected, ev.interrupt.nr);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x70, &v);
	tap_ok(ok && (v & 0xff) == 0x20,
	       "vector 0x20 runs its IVT handler before the guest's next instruction (al 0x%x)",
	       v & 0xff);
	tap_ok(ok && run->if_flag == 0 && run->ready_for_interrupt_injection == 0,
	       "in the handler: if_flag %u, ready %u (want 0, 0)",
	       run->if_flag, run->ready_for_interrupt_injection);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x12, NULL);
	ev_get_events(&g, &ev);
	tap_ok(ok && run->if_flag == 1 && ev.interrupt.injected == 0,
	       "IRET returns to the guest's OUT after STI; if_flag %u, interrupt.injected %u",
	       run->if_flag, ev.interrupt.injected);
	tap_ok(ev_run_exit(&g, KVM_EXIT_HLT), "then HLT");

	/* interrupt.shadow from user space, and what it does */
	EXPECT_EQ(ev.flags, EVENTS_FLAGS_STOCK,
		  "KVM_GET_VCPU_EVENTS flags: NMI_PENDING | SHADOW | SMM");
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	r = ev_set_events(&g, &ev);
	ev_get_events(&g, &ev);
	/* SVM has one shadow bit and reports it as both kinds; VMX keeps the kind. */
	tap_ok(r == 0 && (svm ? ev.interrupt.shadow == (KVM_X86_SHADOW_INT_MOV_SS |
							 KVM_X86_SHADOW_INT_STI) :
			  vmx ? ev.interrupt.shadow == KVM_X86_SHADOW_INT_MOV_SS :
				(ev.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS)),
	       "SET_VCPU_EVENTS interrupt.shadow MOV_SS (%ld): reads back %u (%s)", r,
	       ev.interrupt.shadow, vmx ? "VMX: MOV_SS" : svm ? "SVM: MOV_SS | STI" : "MOV_SS set");

	ev_put(&g, SHADOW_CODE, code_shadow, EV_LEN(code_shadow));
	ev_get_regs(&g, &regs);
	regs.rip = SHADOW_CODE;
	regs.rflags = 0x202;
	ev_set_regs(&g, &regs);
	run->request_interrupt_window = 1;
	ok = ev_run_exit(&g, KVM_EXIT_IRQ_WINDOW_OPEN);
	run->request_interrupt_window = 0;
	ev_get_regs(&g, &regs);
	if (tcg)
		tap_skip("QEMU TCG ignores the VMCB interrupt shadow at VMRUN",
			 "with that shadow and IF=1 the window opens one instruction later");
	else
		tap_ok(ok && regs.rip == SHADOW_CODE + (uint64_t)(shadow_out13 - code_shadow) &&
		       (uint16_t)regs.rdx == 2,
		       "with that shadow and IF=1 the window opens one instruction later "
		       "(rip 0x%llx, dx %llu)", regs.rip, regs.rdx & 0xffff);

	ev_get_events(&g, &ev);
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	ev_set_events(&g, &ev);
	ev.interrupt.shadow = 0;
	r = ev_set_events(&g, &ev);
	ev_get_events(&g, &ev);
	tap_ok(r == 0 && ev.interrupt.shadow == 0,
	       "SET_VCPU_EVENTS interrupt.shadow 0 (%ld): reads back %u", r, ev.interrupt.shadow);

	ev_get_events(&g, &ev);
	ev.flags = 0x80;
	EXPECT_EQ(ev_set_events(&g, &ev), -EINVAL, "SET_VCPU_EVENTS with unknown flag 0x80: EINVAL");
	ev_get_events(&g, &ev);
	ev.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	EXPECT_EQ(ev_set_events(&g, &ev), -EINVAL,
		  "SET_VCPU_EVENTS with VALID_PAYLOAD, KVM_CAP_EXCEPTION_PAYLOAD not enabled: EINVAL");
	ev_get_events(&g, &ev);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 32;
	EXPECT_EQ(ev_set_events(&g, &ev), -EINVAL, "SET_VCPU_EVENTS exception nr 32: EINVAL");
	ev.exception.nr = 2;
	EXPECT_EQ(ev_set_events(&g, &ev), -EINVAL, "SET_VCPU_EVENTS exception nr 2 (NMI): EINVAL");
	ev_get_events(&g, &ev);
	tap_ok(ev.exception.injected == 0 && ev.exception.pending == 0,
	       "... and nothing was queued (injected %u pending %u)",
	       ev.exception.injected, ev.exception.pending);
	khv_guest_destroy(&g);
}

static void test_nmi(void)
{
	struct kvm_vcpu_events ev;
	struct khv_guest g;
	bool ok;
	long r;

	ev_create(&g, code_nmi, EV_LEN(code_nmi));
	ev_put(&g, 0x2100, nmi_handler, EV_LEN(nmi_handler));
	ev_ivt(&g, 2, 0x2100);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x31, NULL);
	r = khv_ioctl(g.vcpu, KVM_NMI, 0);
	ev_get_events(&g, &ev);
	tap_ok(ok && r == 0 && ev.nmi.pending == 1 && ev.nmi.masked == 0 && ev.nmi.injected == 0,
	       "KVM_NMI (%ld): nmi.pending %u masked %u injected %u", r, ev.nmi.pending,
	       ev.nmi.masked, ev.nmi.injected);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x40, NULL);
	ev_get_events(&g, &ev);
	tap_ok(ok, "the NMI runs the IVT[2] handler");
	tap_ok(ev.nmi.masked == 1 && ev.nmi.pending == 0,
	       "in the NMI handler: nmi.masked %u pending %u", ev.nmi.masked, ev.nmi.pending);

	r = khv_ioctl(g.vcpu, KVM_NMI, 0);
	ev_get_events(&g, &ev);
	tap_ok(r == 0 && ev.nmi.pending == 1 && ev.nmi.masked == 1,
	       "a second KVM_NMI in the handler: nmi.pending %u masked %u",
	       ev.nmi.pending, ev.nmi.masked);
	tap_ok(ev_run_io(&g, KVM_EXIT_IO_OUT, 0x41, NULL),
	       "the second NMI is held while the handler runs");
	tap_ok(ev_run_io(&g, KVM_EXIT_IO_OUT, 0x40, NULL),
	       "the handler's IRET lets the second NMI in");
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x41, NULL);
	ok = ok && ev_run_io(&g, KVM_EXIT_IO_OUT, 0x32, NULL);
	ev_get_events(&g, &ev);
	tap_ok(ok && ev.nmi.pending == 0 && ev.nmi.masked == 0,
	       "then the guest goes on: nmi.pending %u masked %u", ev.nmi.pending, ev.nmi.masked);

	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	ev.nmi.pending = 1;
	ev.nmi.masked = 1;
	r = ev_set_events(&g, &ev);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x33, NULL);
	ev_get_events(&g, &ev);
	tap_ok(r == 0 && ok && ev.nmi.pending == 1 && ev.nmi.masked == 1,
	       "SET_VCPU_EVENTS nmi.pending + nmi.masked (%ld): the NMI waits "
	       "(pending %u masked %u)", r, ev.nmi.pending, ev.nmi.masked);
	khv_guest_destroy(&g);
}

static void test_exception(void)
{
	struct kvm_vcpu_events ev;
	struct khv_guest g;
	uint32_t v = 0;
	bool ok;
	long r;

	ev_create(&g, code_exc, EV_LEN(code_exc));
	ev_pmode32(&g, 0);
	ev_put(&g, 0x2000, gp_handler, EV_LEN(gp_handler));
	ev_idt(&g, 13, 0x2000);

	ev_get_events(&g, &ev);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 13;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 0x1234;
	r = ev_set_events(&g, &ev);
	ev_get_events(&g, &ev);
	tap_ok(r == 0 && ev.exception.injected == 1 && ev.exception.nr == 13 &&
	       ev.exception.has_error_code == 1 && ev.exception.error_code == 0x1234,
	       "SET_VCPU_EVENTS #GP(0x1234) (%ld): reads back injected %u nr %u "
	       "has_error_code %u error_code 0x%x", r, ev.exception.injected,
	       ev.exception.nr, ev.exception.has_error_code, ev.exception.error_code);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x50, &v);
	tap_ok(ok && v == 0x1234, "the IDT[13] handler pops error code 0x%x", v);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x51, &v);
	tap_ok(ok && v == KHV_GUEST_CODE, "... and the EIP where the guest was (0x%x)", v);
	ev_get_events(&g, &ev);
	tap_ok(ev.exception.injected == 0, "the exception is no longer queued (injected %u)",
	       ev.exception.injected);
	khv_guest_destroy(&g);
}

int main(void)
{
	tap_plan(32);
	test_window();
	test_nmi();
	test_exception();
	return tap_finish();
}
