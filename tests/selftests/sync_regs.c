// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_run's synced registers (KVM_CAP_SYNC_REGS): kvm_valid_regs asks
 * KVM_RUN to store regs/sregs/events into kvm_run->s.regs on the way out,
 * kvm_dirty_regs to load them from there on the way in (and KVM clears the
 * bits it loaded); unknown bits, and invalid sregs/events, make KVM_RUN
 * fail with EINVAL without running the guest. Also: immediate_exit with an
 * IN pending completes the IN (the register is updated, RIP moves past it)
 * and returns EINTR without entering the guest.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_ev.h"

#define SYNC_ALL (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

EV_ASM(code, ".code16",
	"out %al, $0x10\n"
	"mov %bx, %ax\n"
	"out %ax, $0x11\n"		/* BX set through s.regs */
	"mov 0x10, %al\n"		/* DS set through s.regs */
	"out %al, $0x12\n"
	"out %al, $0x13\n"		/* an NMI set through s.regs comes first */
	"in $0x20, %al\n"
	"after_in:\n"
	"out %al, $0x21\n"
	"out %al, $0x22\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t after_in[];

/* IVT[2] -> 0x2100 */
EV_ASM(nmi_handler, ".code16",
	"out %al, $0x40\n"
	"iret\n");

int main(void)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct khv_guest g;
	struct kvm_run *run;
	uint32_t v = 0;
	bool ok;
	long r;

	tap_plan(21);
	ev_create(&g, code, EV_LEN(code));
	ev_put(&g, 0x2100, nmi_handler, EV_LEN(nmi_handler));
	ev_ivt(&g, 2, 0x2100);
	g.mem[0x3010] = 0x77;
	run = g.run;

	EXPECT_EQ(khv_ioctl(g.vm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS), SYNC_ALL,
		  "KVM_CAP_SYNC_REGS: REGS | SREGS | EVENTS");

	run->kvm_valid_regs = 1 << 3;
	EXPECT_EQ(khv_guest_run(&g), -EINVAL, "kvm_valid_regs with an unknown bit: EINVAL");
	run->kvm_valid_regs = 0;
	run->kvm_dirty_regs = 1 << 3;
	r = khv_guest_run(&g);
	run->kvm_dirty_regs = 0;
	ev_get_regs(&g, &regs);
	tap_ok(r == -EINVAL && regs.rip == KHV_GUEST_CODE,
	       "kvm_dirty_regs with an unknown bit: EINVAL (%ld), the guest did not run "
	       "(rip 0x%llx)", r, regs.rip);

	/* kvm_valid_regs: stored on the way out */
	run->kvm_valid_regs = SYNC_ALL;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, NULL);
	ev_get_regs(&g, &regs);
	tap_ok(ok && !memcmp(&run->s.regs.regs, &regs, sizeof(regs)),
	       "s.regs.regs is KVM_GET_REGS' (rip 0x%llx)", run->s.regs.regs.rip);
	tap_ok(regs.rip == KHV_GUEST_CODE,
	       "at the OUT exit RIP is still at the OUT (0x%llx): it completes on the next KVM_RUN",
	       regs.rip);
	ev_get_sregs(&g, &sregs);
	tap_ok(!memcmp(&run->s.regs.sregs, &sregs, sizeof(sregs)),
	       "s.regs.sregs is KVM_GET_SREGS' (cs.base 0x%llx, cr0 0x%llx)",
	       run->s.regs.sregs.cs.base, run->s.regs.sregs.cr0);
	ev_get_events(&g, &ev);
	tap_ok(!memcmp(&run->s.regs.events, &ev, sizeof(ev)) &&
	       run->s.regs.events.flags == (KVM_VCPUEVENT_VALID_NMI_PENDING |
					    KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM),
	       "s.regs.events is KVM_GET_VCPU_EVENTS' (flags 0x%x)", run->s.regs.events.flags);

	/* kvm_dirty_regs: loaded on the way in */
	run->s.regs.regs.rbx = 0xbeef;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, &v);
	tap_ok(ok && v == 0xbeef, "BX set in s.regs.regs reaches the guest (0x%x)", v);
	tap_ok(run->kvm_dirty_regs == 0, "KVM_RUN cleared kvm_dirty_regs (0x%llx)",
	       (unsigned long long)run->kvm_dirty_regs);

	run->s.regs.sregs.ds.selector = 0x300;
	run->s.regs.sregs.ds.base = 0x3000;
	run->kvm_dirty_regs = KVM_SYNC_X86_SREGS;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x12, &v);
	tap_ok(ok && (v & 0xff) == 0x77, "DS set in s.regs.sregs reaches the guest (0x%x)", v & 0xff);
	ev_get_sregs(&g, &sregs);
	tap_ok(sregs.ds.base == 0x3000 && run->s.regs.sregs.ds.base == 0x3000 &&
	       run->s.regs.sregs.ds.selector == 0x300,
	       "KVM_GET_SREGS and s.regs.sregs have it (ds.base 0x%llx / 0x%llx)",
	       sregs.ds.base, run->s.regs.sregs.ds.base);

	tap_diag("s.regs.events.nmi before: injected %u pending %u masked %u",
		 run->s.regs.events.nmi.injected, run->s.regs.events.nmi.pending,
		 run->s.regs.events.nmi.masked);
	run->s.regs.events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	run->s.regs.events.nmi.pending = 1;
	run->s.regs.events.nmi.masked = 0;
	run->kvm_dirty_regs = KVM_SYNC_X86_EVENTS;
	tap_ok(ev_run_io(&g, KVM_EXIT_IO_OUT, 0x40, NULL),
	       "an NMI set pending in s.regs.events is delivered");
	tap_ok(ev_run_io(&g, KVM_EXIT_IO_OUT, 0x13, NULL), "... then the guest goes on");

	/* invalid state in s.regs */
	ev_get_regs(&g, &regs);
	run->s.regs.sregs.efer |= 1 << 10;	/* LMA without paging */
	run->kvm_dirty_regs = KVM_SYNC_X86_SREGS;
	r = khv_guest_run(&g);
	run->kvm_dirty_regs = 0;
	tap_ok(r == -EINVAL && run->s.regs.regs.rip == regs.rip,
	       "invalid s.regs.sregs (EFER.LMA, no paging): EINVAL (%ld), the guest did not run", r);
	run->s.regs.events.flags = 0x80;
	run->kvm_dirty_regs = KVM_SYNC_X86_EVENTS;
	r = khv_guest_run(&g);
	run->kvm_dirty_regs = 0;
	tap_ok(r == -EINVAL && run->s.regs.regs.rip == regs.rip,
	       "invalid s.regs.events (flag 0x80): EINVAL (%ld), the guest did not run", r);

	/* immediate_exit with an IN pending */
	ok = ev_run_io(&g, KVM_EXIT_IO_IN, 0x20, NULL);
	tap_ok(ok, "in $0x20, %%al exits");
	ev_io_in_data(&g, 0x5a);
	run->immediate_exit = 1;
	r = khv_guest_run(&g);
	run->immediate_exit = 0;
	ev_get_regs(&g, &regs);
	tap_ok(r == -EINTR && (regs.rax & 0xff) == 0x5a &&
	       regs.rip == KHV_GUEST_CODE + (uint64_t)(after_in - code),
	       "immediate_exit: EINTR (%ld), the IN completed (al 0x%llx, rip 0x%llx), "
	       "exit reason %s", r, regs.rax & 0xff, regs.rip, khv_exit_name(run->exit_reason));
	tap_ok((run->s.regs.regs.rax & 0xff) == 0x5a && run->s.regs.regs.rip == regs.rip,
	       "... and s.regs.regs has it (al 0x%llx, rip 0x%llx)",
	       run->s.regs.regs.rax & 0xff, run->s.regs.regs.rip);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x21, &v);
	tap_ok(ok && (v & 0xff) == 0x5a, "the next KVM_RUN goes on after the IN (out 0x%x)", v & 0xff);

	/* kvm_valid_regs 0: s.regs is left alone */
	run->kvm_valid_regs = 0;
	run->s.regs.regs.rip = 0xdead;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x22, NULL);
	tap_ok(ok && run->s.regs.regs.rip == 0xdead,
	       "with kvm_valid_regs 0, s.regs is not written (rip 0x%llx)", run->s.regs.regs.rip);
	tap_ok(ev_run_exit(&g, KVM_EXIT_HLT), "then HLT");
	khv_guest_destroy(&g);
	return tap_finish();
}
