// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debug registers: KVM_GET/SET_DEBUGREGS at reset, round trip and argument
 * checks; a 32-bit protected-mode guest reads DR0-3/DR6/DR7 set by the
 * host and writes DR0/DR3/DR7, which the host then reads back; an
 * instruction breakpoint set in DR0/DR7, by the guest and by the host,
 * raises #DB in the guest, before the instruction, with DR6.B0.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_ev.h"

EV_ASM(code, ".code32",
	"mov %dr0, %eax\n"
	"out %eax, $0x20\n"
	"mov %dr1, %eax\n"
	"out %eax, $0x21\n"
	"mov %dr2, %eax\n"
	"out %eax, $0x22\n"
	"mov %dr3, %eax\n"
	"out %eax, $0x23\n"
	"mov %dr6, %eax\n"
	"out %eax, $0x26\n"
	"mov %dr7, %eax\n"
	"out %eax, $0x27\n"
	"mov $0x00abc000, %eax\n"
	"mov %eax, %dr0\n"
	"mov $0x00abf000, %eax\n"
	"mov %eax, %dr3\n"
	"mov $0x0f000400, %eax\n"	/* R/W3 and LEN3 set, nothing enabled */
	"mov %eax, %dr7\n"
	"1: hlt\n"
	"jmp 1b\n");

/* At 0x1200: the guest sets an execute breakpoint on bp1 (address in ESI). */
EV_ASM(code_bp, ".code32",
	"mov %esi, %dr0\n"
	"mov $0x401, %eax\n"	/* L0, execute, 1 byte */
	"mov %eax, %dr7\n"
	"mov $1, %ebx\n"
	"bp1:\n"
	"mov $2, %ebx\n"
	"out %al, $0x33\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t bp1[];
#define BP_CODE 0x1200

/* At 0x1300: the host sets an execute breakpoint on bp2. */
EV_ASM(code_bp2, ".code32",
	"mov $1, %ebx\n"
	"bp2:\n"
	"mov $2, %ebx\n"
	"out %al, $0x33\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t bp2[];
#define BP2_CODE 0x1300

/* IDT[1] -> 0x2000: report DR6, the EIP pushed, and EBX. */
EV_ASM(db_handler, ".code32",
	"mov %dr6, %eax\n"
	"out %eax, $0x30\n"
	"pop %eax\n"
	"out %eax, $0x31\n"
	"mov %ebx, %eax\n"
	"out %eax, $0x32\n"
	"1: hlt\n"
	"jmp 1b\n");

static const struct kvm_debugregs host_set = {
	.db = { 0x11111000, 0x22222000, 0x33333000, 0x44444000 },
	.dr6 = 0xffff0ff2,	/* B1, every other bit at its reset value */
	.dr7 = 0x00f00400,	/* R/W1 and LEN1 set, nothing enabled */
};

/*
 * QEMU 7.2 TCG (the svm and debug lanes) arms a breakpoint when the guest's
 * MOV to DR7 executes, not when VMRUN loads DR7 from the VMCB: there a
 * breakpoint fires only if the hypervisor lets the guest's MOV to DR7 run
 * unintercepted (stock KVM does, after the first DR access), and never
 * for one the host set. On those lanes a breakpoint that does not fire
 * is a skip; one that fires must be right.
 */
#define TCG_NO_BP "QEMU TCG arms no breakpoint from the DR7 VMRUN loads"

/* Run to the #DB handler's first OUT (1), or on TCG to the OUT after the
 * breakpoint (0: it did not fire); anything else is -1. */
static int run_to_db(struct khv_guest *g, bool tcg, uint32_t *dr6)
{
	long r = khv_guest_run(g);
	struct kvm_run *run = g->run;

	if (!r && run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT) {
		if (run->io.port == 0x30) {
			memcpy(dr6, (char *)run + run->io.data_offset, 4);
			return 1;
		}
		if (run->io.port == 0x33 && tcg) {
			tap_diag("  the breakpoint did not fire (QEMU TCG)");
			return 0;
		}
	}
	tap_diag("  wanted out port 0x30 (#DB handler):");
	ev_diag_exit(g, r);
	return -1;
}

static bool same(const struct kvm_debugregs *a, const struct kvm_debugregs *b)
{
	return !memcmp(a->db, b->db, sizeof(a->db)) && a->dr6 == b->dr6 &&
	       a->dr7 == b->dr7 && a->flags == b->flags;
}

int main(void)
{
	static const uint16_t ports[6] = { 0x20, 0x21, 0x22, 0x23, 0x26, 0x27 };
	static const char *const names[6] = { "DR0", "DR1", "DR2", "DR3", "DR6", "DR7" };
	struct kvm_debugregs d, bad;
	struct kvm_regs regs;
	struct khv_guest g;
	/* The svm and debug lanes run under QEMU TCG. */
	bool tcg = !strcmp(khv_lane(), "svm") || !strcmp(khv_lane(), "debug");
	uint32_t v = 0, dr6 = 0;
	int fired;
	bool ok;
	long r;

	tap_plan(20);
	ev_create(&g, code, EV_LEN(code));
	ev_pmode32(&g, 0);
	ev_put(&g, BP_CODE, code_bp, EV_LEN(code_bp));
	ev_put(&g, BP2_CODE, code_bp2, EV_LEN(code_bp2));
	ev_put(&g, 0x2000, db_handler, EV_LEN(db_handler));
	ev_idt(&g, 1, 0x2000);

	memset(&d, 0xff, sizeof(d));
	r = khv_ioctl_p(g.vcpu, KVM_GET_DEBUGREGS, &d);
	tap_ok(r == 0 && !d.db[0] && !d.db[1] && !d.db[2] && !d.db[3] && d.dr6 == 0xffff0ff0 &&
	       d.dr7 == 0x400 && d.flags == 0,
	       "KVM_GET_DEBUGREGS at reset (%ld): db 0x%llx 0x%llx 0x%llx 0x%llx dr6 0x%llx "
	       "dr7 0x%llx flags %llu", r, d.db[0], d.db[1], d.db[2], d.db[3], d.dr6, d.dr7,
	       d.flags);

	d = host_set;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &d), 0, "KVM_SET_DEBUGREGS");
	memset(&d, 0, sizeof(d));
	khv_ioctl_p(g.vcpu, KVM_GET_DEBUGREGS, &d);
	tap_ok(same(&d, &host_set), "KVM_GET_DEBUGREGS reads them back (dr6 0x%llx dr7 0x%llx)",
	       d.dr6, d.dr7);

	bad = host_set;
	bad.flags = 1;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &bad), -EINVAL,
		  "KVM_SET_DEBUGREGS flags 1: EINVAL");
	bad = host_set;
	bad.dr6 |= 1ULL << 32;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &bad), -EINVAL,
		  "KVM_SET_DEBUGREGS dr6 with bit 32 set: EINVAL");
	bad = host_set;
	bad.dr7 |= 1ULL << 63;
	bad.db[0] = 0x1234;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &bad), -EINVAL,
		  "KVM_SET_DEBUGREGS dr7 with bit 63 set: EINVAL");
	memset(&d, 0, sizeof(d));
	khv_ioctl_p(g.vcpu, KVM_GET_DEBUGREGS, &d);
	tap_ok(same(&d, &host_set), "the refused calls changed nothing (db0 0x%llx)", d.db[0]);

	for (int i = 0; i < 6; i++) {
		uint64_t want = i < 4 ? host_set.db[i] : i == 4 ? host_set.dr6 : host_set.dr7;

		ok = ev_run_io(&g, KVM_EXIT_IO_OUT, ports[i], &v);
		tap_ok(ok && v == want, "the guest reads %s 0x%x (want 0x%llx)", names[i], v,
		       (unsigned long long)want);
	}
	ok = ev_run_exit(&g, KVM_EXIT_HLT);
	memset(&d, 0, sizeof(d));
	r = khv_ioctl_p(g.vcpu, KVM_GET_DEBUGREGS, &d);
	tap_ok(ok && r == 0 && d.db[0] == 0xabc000 && d.db[3] == 0xabf000 && d.db[1] == host_set.db[1],
	       "after the guest's MOV to DR0/DR3: db 0x%llx 0x%llx 0x%llx 0x%llx",
	       d.db[0], d.db[1], d.db[2], d.db[3]);
	tap_ok(d.dr7 == 0x0f000400, "... and to DR7: 0x%llx", d.dr7);

	/* An instruction breakpoint the guest sets on bp1 */
	memset(&d, 0, sizeof(d));
	d.dr6 = 0xffff0ff0;
	d.dr7 = 0x400;
	khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &d);
	ev_get_regs(&g, &regs);
	regs.rip = BP_CODE;
	regs.rsi = BP_CODE + (uint64_t)(bp1 - code_bp);
	ev_set_regs(&g, &regs);
	fired = run_to_db(&g, tcg, &v);
	if (fired == 0) {
		for (int i = 0; i < 3; i++)
			tap_skip(TCG_NO_BP, "the guest's breakpoint is #DB in the guest");
	} else {
		tap_ok(fired > 0 && v == 0xffff0ff1, "the guest's breakpoint (DR0, DR7 0x401) is #DB "
		       "in the guest with DR6 0x%x (want 0xffff0ff1: B0)", v);
		ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x31, &v);
		tap_ok(ok && v == regs.rsi, "... at EIP 0x%x, the breakpoint's address", v);
		ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x32, &v);
		tap_ok(ok && v == 1, "... before the instruction ran (ebx %u)", v);
	}

	/* An instruction breakpoint the host sets on bp2 */
	memset(&d, 0, sizeof(d));
	d.db[0] = BP2_CODE + (uint64_t)(bp2 - code_bp2);
	d.dr6 = 0xffff0ff0;
	d.dr7 = 0x401;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_DEBUGREGS, &d), 0,
		  "KVM_SET_DEBUGREGS DR0 0x%llx, DR7 0x401", d.db[0]);
	ev_get_regs(&g, &regs);
	regs.rip = BP2_CODE;
	regs.rsp = 0x8000;
	ev_set_regs(&g, &regs);
	fired = run_to_db(&g, tcg, &dr6);
	if (fired == 0) {
		tap_skip(TCG_NO_BP, "the host's breakpoint is #DB in the guest");
	} else {
		ok = fired > 0 && ev_run_io(&g, KVM_EXIT_IO_OUT, 0x31, &v);
		tap_ok(ok && dr6 == 0xffff0ff1 && v == d.db[0],
		       "the host's breakpoint is #DB in the guest, DR6 0x%x, at EIP 0x%x", dr6, v);
	}
	khv_guest_destroy(&g);
	return tap_finish();
}
