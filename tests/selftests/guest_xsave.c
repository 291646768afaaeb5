// SPDX-License-Identifier: GPL-2.0-only
/*
 * XSAVE features in a 32-bit protected-mode guest: with CPUID.1:ECX.XSAVE
 * in the vCPU's CPUID (KVM_SET_CPUID2 from KVM_GET_SUPPORTED_CPUID) the host
 * may set CR4.OSXSAVE, which CPUID.1:ECX.OSXSAVE then reflects; the guest's
 * XGETBV/XSETBV see and change the XCR0 of KVM_GET/SET_XCRS; an invalid
 * XSETBV (bad value, bad XCR index) is #GP(0) in the guest. Without XSAVE
 * in the vCPU's CPUID, KVM_SET_SREGS refuses CR4.OSXSAVE; without
 * CR4.OSXSAVE, XGETBV is #UD.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_ev.h"

#define CR4_OSFXSR	(1u << 9)
#define CR4_OSXSAVE	(1u << 18)

/* ESI: the XCR0 to set; EDI: an invalid XCR0. */
EV_ASM(code, ".code32",
	"mov $1, %eax\n"
	"cpuid\n"
	"mov %ecx, %eax\n"
	"out %eax, $0x12\n"
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"out %eax, $0x10\n"
	"mov %esi, %eax\n"
	"xor %edx, %edx\n"
	"xor %ecx, %ecx\n"
	"xsetbv\n"
	"xgetbv\n"
	"out %eax, $0x11\n"
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"out %eax, $0x13\n"
	"mov %edi, %eax\n"
	"xor %edx, %edx\n"
	"xor %ecx, %ecx\n"
	"xsetbv_bad1:\n"
	"xsetbv\n"
	"mov $1, %ecx\n"
	"mov $1, %eax\n"
	"xor %edx, %edx\n"
	"xsetbv_bad2:\n"
	"xsetbv\n"
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"out %eax, $0x14\n"
	"1: hlt\n"
	"jmp 1b\n");
extern const uint8_t xsetbv_bad1[], xsetbv_bad2[];

/* IDT[13] -> 0x2000: report error code and EIP, skip the 3-byte XSETBV. */
EV_ASM(gp_handler, ".code32",
	"pop %eax\n"
	"out %eax, $0x1d\n"
	"pop %eax\n"
	"out %eax, $0x1e\n"
	"add $3, %eax\n"
	"push %eax\n"
	"iret\n");

EV_ASM(code_noxsave, ".code32",
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"out %eax, $0x10\n"
	"1: hlt\n"
	"jmp 1b\n");

static uint64_t get_xcr0(int vcpu)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (khv_ioctl_p(vcpu, KVM_GET_XCRS, &x) || x.nr_xcrs != 1 || x.xcrs[0].xcr != 0)
		return ~0ULL;
	return x.xcrs[0].value;
}

static long set_xcr0(int vcpu, uint64_t val)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = val;
	return khv_ioctl_p(vcpu, KVM_SET_XCRS, &x);
}

static uint32_t at(const uint8_t *label)
{
	return KHV_GUEST_CODE + (uint32_t)(label - code);
}

int main(void)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct khv_guest g;
	uint32_t v = 0, want, other;
	/* The svm and debug lanes run under QEMU TCG. */
	bool tcg = !strcmp(khv_lane(), "svm") || !strcmp(khv_lane(), "debug");
	bool ok;
	long r;

	ev_create(&g, code, EV_LEN(code));
	cpuid = ev_supported_cpuid(g.dev);
	e = ev_cpuid(cpuid, 1, 0);
	if (!e || !(e->ecx & (1u << 26)))
		tap_skip_all("KVM_GET_SUPPORTED_CPUID reports no XSAVE");
	tap_plan(15);
	e = ev_cpuid(cpuid, 0xd, 0);
	want = e && (e->eax & 4) ? 7 : 3;
	other = want == 7 ? 3 : 1;
	tap_diag("XCR0 to set: 0x%x (AVX %s)", want, want == 7 ? "supported" : "not supported");

	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_CPUID2, cpuid), 0,
		  "KVM_SET_CPUID2 with KVM_GET_SUPPORTED_CPUID's table");
	ev_pmode32(&g, CR4_OSFXSR);
	ev_put(&g, 0x2000, gp_handler, EV_LEN(gp_handler));
	ev_idt(&g, 13, 0x2000);
	ev_get_regs(&g, &regs);
	regs.rsi = want;
	regs.rdi = 5;	/* x87 | AVX without SSE */
	ev_set_regs(&g, &regs);
	ev_get_sregs(&g, &sregs);
	sregs.cr4 |= CR4_OSXSAVE;
	r = ev_set_sregs(&g, &sregs);
	ev_get_sregs(&g, &sregs);
	tap_ok(r == 0 && (sregs.cr4 & CR4_OSXSAVE),
	       "KVM_SET_SREGS with CR4.OSXSAVE (%ld): cr4 0x%llx", r, sregs.cr4);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x12, &v);
	tap_ok(ok && (v & (1u << 27)) && (v & (1u << 26)),
	       "the guest's CPUID.1:ECX has XSAVE and OSXSAVE (0x%x)", v);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, &v);
	tap_ok(ok && v == 1, "XGETBV: XCR0 at reset is 0x%x (want 1)", v);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, &v);
	tap_ok(ok && v == want, "XSETBV 0x%x, XGETBV reads 0x%x", want, v);
	if (tcg)
		tap_skip("QEMU TCG does not intercept a nested guest's XSETBV",
			 "KVM_GET_XCRS after the guest's XSETBV: 0x%llx",
			 (unsigned long long)get_xcr0(g.vcpu));
	else
		tap_ok(get_xcr0(g.vcpu) == want, "KVM_GET_XCRS after the guest's XSETBV: 0x%llx",
		       (unsigned long long)get_xcr0(g.vcpu));
	r = set_xcr0(g.vcpu, other);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x13, &v);
	tap_ok(r == 0 && ok && v == other, "KVM_SET_XCRS 0x%x (%ld): the guest's XGETBV reads 0x%x",
	       other, r, v);

	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x1d, &v);
	tap_ok(ok && v == 0, "XSETBV 5 (AVX without SSE): #GP, error code 0x%x", v);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x1e, &v);
	tap_ok(ok && v == at(xsetbv_bad1), "... at the XSETBV (eip 0x%x, want 0x%x)", v,
	       at(xsetbv_bad1));
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x1d, &v);
	ok = ok && v == 0;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x1e, &v) && ok;
	tap_ok(ok && v == at(xsetbv_bad2), "XSETBV with ECX=1 (no such XCR): #GP(0) at eip 0x%x", v);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x14, &v);
	tap_ok(ok && v == other && get_xcr0(g.vcpu) == other,
	       "XCR0 is unchanged: guest 0x%x, KVM_GET_XCRS 0x%llx", v,
	       (unsigned long long)get_xcr0(g.vcpu));
	tap_ok(ev_run_exit(&g, KVM_EXIT_HLT), "then HLT");
	khv_guest_destroy(&g);

	/* A vCPU whose CPUID has no XSAVE */
	ev_create(&g, code_noxsave, EV_LEN(code_noxsave));
	e = ev_cpuid(cpuid, 1, 0);
	e->ecx &= ~((1u << 26) | (1u << 27) | (1u << 28));	/* XSAVE, OSXSAVE, AVX */
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_CPUID2, cpuid), 0,
		  "KVM_SET_CPUID2 without XSAVE in leaf 1");
	ev_pmode32(&g, CR4_OSFXSR);
	ev_get_sregs(&g, &sregs);
	sregs.cr4 |= CR4_OSXSAVE;
	EXPECT_EQ(ev_set_sregs(&g, &sregs), -EINVAL,
		  "KVM_SET_SREGS with CR4.OSXSAVE, the vCPU's CPUID has no XSAVE: EINVAL");
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, EV_STUB_PORT, &v);
	tap_ok(ok && (v & 0xff) == 6, "XGETBV with CR4.OSXSAVE clear: #UD (vector %u)", v & 0xff);
	khv_guest_destroy(&g);
	free(cpuid);
	return tap_finish();
}
