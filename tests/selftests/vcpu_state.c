// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU state ioctls, without an in-kernel irqchip:
 *
 * - KVM_GET/SET_FPU: reset values, round trip, and what the guest sees
 *   (it loads XMM1/MXCSR/FCW the host then reads, and stores XMM0/FCW set
 *   with KVM_SET_FPU and MXCSR set with KVM_SET_XSAVE);
 * - KVM_GET/SET_XSAVE: the legacy area follows the FPU state, round trip,
 *   and the header/MXCSR checks;
 * - KVM_GET/SET_XCRS: XCR0 at reset, limited by the vCPU's CPUID, invalid
 *   values and flags refused;
 * - KVM_GET/SET_MP_STATE: RUNNABLE only;
 * - KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR (only before a vCPU);
 * - cr8 in KVM_GET/SET_SREGS and kvm_run->cr8 (an input of KVM_RUN),
 *   apic_base in sregs and kvm_run.
 */
#include <linux/kvm.h>
#include <stddef.h>
#include <unistd.h>

#include "lib/khv_ev.h"

#define CR4_OSFXSR	(1u << 9)

/*
 * Real mode with CR4.OSFXSR: load values (so x87 and SSE are in use and
 * saved as such), exit, then store what the host set meanwhile.
 */
EV_ASM(code_fpu, ".code16",
	"movdqu 0x3100, %xmm1\n"
	"ldmxcsr 0x3110\n"
	"fldcw 0x3114\n"
	"out %al, $0x10\n"
	"movdqu %xmm0, 0x3000\n"
	"stmxcsr 0x3010\n"
	"fnstcw 0x3014\n"
	"out %al, $0x11\n"
	"1: hlt\n"
	"jmp 1b\n");

EV_ASM(code_out, ".code16",
	"out %al, $0x10\n"
	"out %al, $0x11\n"
	"out %al, $0x12\n"
	"1: hlt\n"
	"jmp 1b\n");

static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static bool fpu_same(const struct kvm_fpu *a, const struct kvm_fpu *b)
{
	for (int i = 0; i < 8; i++)
		if (memcmp(a->fpr[i], b->fpr[i], 10))
			return false;
	return a->fcw == b->fcw && a->fsw == b->fsw && a->ftwx == b->ftwx &&
	       !memcmp(a->xmm, b->xmm, sizeof(a->xmm));
}

/*
 * FPU and XSAVE: 21 points.
 *
 * Stock KVM's KVM_GET_FPU/KVM_SET_FPU do not carry MXCSR (GET reports 0,
 * SET ignores it): MXCSR is checked through KVM_GET/SET_XSAVE. And on a
 * vCPU whose x87/SSE state is still in its initial configuration, stock
 * KVM's KVM_SET_FPU does not reach the guest (XSTATE_BV stays clear), so
 * the guest uses x87 and SSE before the host sets them.
 */
static void test_fpu_xsave(void)
{
	bool xsave_cap;
	struct kvm_xsave xs, xs2, bad;
	uint8_t *b = (uint8_t *)xs.region;
	struct kvm_fpu fpu, set;
	struct khv_guest g;
	struct kvm_sregs sregs;
	uint8_t want[16];
	uint64_t bv;
	uint32_t mx;
	uint16_t cw;
	bool ok;
	long r;

	ev_create(&g, code_fpu, EV_LEN(code_fpu));
	xsave_cap = khv_ioctl(g.dev, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	memset(&fpu, 0, sizeof(fpu));
	r = khv_ioctl_p(g.vcpu, KVM_GET_FPU, &fpu);
	tap_ok(r == 0 && fpu.fcw == 0x37f && fpu.fsw == 0 && fpu.ftwx == 0,
	       "KVM_GET_FPU at reset (%ld): fcw 0x%x fsw 0x%x ftwx 0x%x (mxcsr 0x%x)", r,
	       fpu.fcw, fpu.fsw, fpu.ftwx, fpu.mxcsr);

	memset(&set, 0, sizeof(set));
	for (int i = 0; i < 8; i++) {
		pattern(set.fpr[i], 8, 0x80 + i);
		set.fpr[i][8] = 0x3f;	/* exponent: a normal number */
		set.fpr[i][9] = 0x40 + i;
	}
	set.fcw = 0x027f;
	set.fsw = 0x0800;	/* TOP = 1 */
	set.ftwx = 0x81;
	for (int i = 0; i < 16; i++)
		pattern(set.xmm[i], 16, 0x10 * i);
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_FPU, &set), 0, "KVM_SET_FPU");
	memset(&fpu, 0, sizeof(fpu));
	khv_ioctl_p(g.vcpu, KVM_GET_FPU, &fpu);
	tap_ok(fpu_same(&fpu, &set),
	       "KVM_GET_FPU reads back st0-7, fcw 0x%x, fsw 0x%x, ftwx 0x%x, xmm0-15",
	       fpu.fcw, fpu.fsw, fpu.ftwx);

	ev_get_sregs(&g, &sregs);
	sregs.cr4 |= CR4_OSFXSR;
	EXPECT_EQ(ev_set_sregs(&g, &sregs), 0, "KVM_SET_SREGS with CR4.OSFXSR");

	/* The guest loads XMM1, MXCSR, FCW; the host reads them. */
	pattern(g.mem + 0x3100, 16, 0xa0);
	mx = 0x3f80;	/* round down */
	cw = 0x0c7f;	/* truncate, single precision */
	memcpy(g.mem + 0x3110, &mx, 4);
	memcpy(g.mem + 0x3114, &cw, 2);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, NULL);
	memset(&fpu, 0, sizeof(fpu));
	r = khv_ioctl_p(g.vcpu, KVM_GET_FPU, &fpu);
	pattern(want, 16, 0xa0);
	tap_ok(ok && r == 0 && !memcmp(fpu.xmm[1], want, 16),
	       "KVM_GET_FPU has the XMM1 the guest loaded");
	tap_ok(fpu.fcw == 0x0c7f, "... and the FCW it loaded (0x%x)", fpu.fcw);
	memset(&xs, 0, sizeof(xs));
	if (xsave_cap) {
		r = khv_ioctl_p(g.vcpu, KVM_GET_XSAVE, &xs);
		memcpy(&mx, b + 24, 4);
		tap_ok(r == 0 && mx == 0x3f80, "KVM_GET_XSAVE has the MXCSR it loaded (0x%x)", mx);
	} else {
		tap_skip("no KVM_CAP_XSAVE", "KVM_GET_XSAVE has the MXCSR the guest loaded");
	}

	/* The host sets XMM0 and FCW (KVM_SET_FPU), MXCSR (KVM_SET_XSAVE). */
	memset(&fpu, 0, sizeof(fpu));
	khv_ioctl_p(g.vcpu, KVM_GET_FPU, &fpu);
	pattern(fpu.xmm[0], 16, 0x55);
	fpu.fcw = 0x027f;
	khv_ioctl_p(g.vcpu, KVM_SET_FPU, &fpu);
	if (xsave_cap) {
		memset(&xs, 0, sizeof(xs));
		khv_ioctl_p(g.vcpu, KVM_GET_XSAVE, &xs);
		mx = 0x7f80;	/* round toward zero */
		memcpy(b + 24, &mx, 4);
		khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &xs);
	}
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, NULL);
	pattern(want, 16, 0x55);
	tap_ok(ok && !memcmp(g.mem + 0x3000, want, 16),
	       "the guest's MOVDQU stores the XMM0 set with KVM_SET_FPU");
	memcpy(&cw, g.mem + 0x3014, 2);
	tap_ok(ok && cw == 0x027f, "the guest's FNSTCW stores 0x%x (KVM_SET_FPU: 0x27f)", cw);
	memcpy(&mx, g.mem + 0x3010, 4);
	if (xsave_cap)
		tap_ok(ok && mx == 0x7f80, "the guest's STMXCSR stores 0x%x (KVM_SET_XSAVE: 0x7f80)", mx);
	else
		tap_skip("no KVM_CAP_XSAVE", "the guest's STMXCSR stores the MXCSR set with KVM_SET_XSAVE");
	tap_ok(ev_run_exit(&g, KVM_EXIT_HLT), "then HLT");

	/* KVM_GET/SET_XSAVE */
	if (!xsave_cap) {
		for (int i = 0; i < 10; i++)
			tap_skip("no KVM_CAP_XSAVE", "KVM_GET/SET_XSAVE");
		khv_guest_destroy(&g);
		return;
	}
	tap_ok(true, "KVM_CAP_XSAVE");
	memset(&xs, 0, sizeof(xs));
	r = khv_ioctl_p(g.vcpu, KVM_GET_XSAVE, &xs);
	memcpy(&cw, b + 0, 2);
	memcpy(&mx, b + 24, 4);
	memcpy(&bv, b + 512, 8);
	pattern(want, 16, 0x55);
	tap_ok(r == 0 && cw == 0x027f && mx == 0x7f80 && !memcmp(b + 160, want, 16) &&
	       (bv & 3) == 3,
	       "KVM_GET_XSAVE (%ld): fcw 0x%x, mxcsr 0x%x, xmm0, XSTATE_BV 0x%llx has x87|SSE",
	       r, cw, mx, (unsigned long long)bv);

	cw = 0x037f;
	mx = 0x5f80;	/* round up */
	memcpy(b + 0, &cw, 2);
	memcpy(b + 24, &mx, 4);
	pattern(b + 160 + 3 * 16, 16, 0xc0);
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &xs), 0, "KVM_SET_XSAVE");
	memset(&xs2, 0, sizeof(xs2));
	khv_ioctl_p(g.vcpu, KVM_GET_XSAVE, &xs2);
	tap_ok(!memcmp(xs2.region, xs.region, 2) &&
	       !memcmp((uint8_t *)xs2.region + 24, b + 24, 4) &&
	       !memcmp((uint8_t *)xs2.region + 160, b + 160, 256),
	       "KVM_GET_XSAVE reads back fcw, mxcsr and xmm0-15");
	memset(&fpu, 0, sizeof(fpu));
	khv_ioctl_p(g.vcpu, KVM_GET_FPU, &fpu);
	tap_ok(fpu.fcw == 0x037f && !memcmp(fpu.xmm[3], b + 160 + 48, 16),
	       "KVM_GET_FPU sees fcw 0x%x and xmm3", fpu.fcw);

	bad = xs;
	bv = 1ULL << 63;
	memcpy((uint8_t *)bad.region + 520, &bv, 8);
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &bad), -EINVAL,
		  "KVM_SET_XSAVE with XCOMP_BV != 0 (compacted): EINVAL");
	bad = xs;
	((uint8_t *)bad.region)[512 + 16] = 1;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &bad), -EINVAL,
		  "KVM_SET_XSAVE with a reserved header byte set: EINVAL");
	bad = xs;
	mx = 0x80001f80;
	memcpy((uint8_t *)bad.region + 24, &mx, 4);
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &bad), -EINVAL,
		  "KVM_SET_XSAVE with MXCSR bit 31 set: EINVAL");
	bad = xs;
	memcpy(&bv, b + 512, 8);
	bv |= 1ULL << 62;
	memcpy((uint8_t *)bad.region + 512, &bv, 8);
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_XSAVE, &bad), -EINVAL,
		  "KVM_SET_XSAVE with XSTATE_BV bit 62 (not supported): EINVAL");
	memset(&xs2, 0, sizeof(xs2));
	khv_ioctl_p(g.vcpu, KVM_GET_XSAVE, &xs2);
	memcpy(&mx, (uint8_t *)xs2.region + 24, 4);
	memcpy(&cw, xs2.region, 2);
	tap_ok(mx == 0x5f80 && cw == 0x037f,
	       "... and the refused ones changed nothing (fcw 0x%x mxcsr 0x%x)", cw, mx);
	khv_guest_destroy(&g);
}

static long set_xcr0(int vcpu, uint32_t flags, uint32_t nr, uint32_t xcr, uint64_t val)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	x.flags = flags;
	x.nr_xcrs = nr;
	x.xcrs[0].xcr = xcr;
	x.xcrs[0].value = val;
	return khv_ioctl_p(vcpu, KVM_SET_XCRS, &x);
}

static uint64_t get_xcr0(int vcpu)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (khv_ioctl_p(vcpu, KVM_GET_XCRS, &x) || x.nr_xcrs != 1 || x.xcrs[0].xcr != 0)
		return ~0ULL;
	return x.xcrs[0].value;
}

/* XCRS: 10 points. */
static void test_xcrs(void)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *cpuid;
	struct khv_guest g;
	struct kvm_xcrs x;
	bool avx;
	long r;

	ev_create(&g, code_out, EV_LEN(code_out));
	cpuid = ev_supported_cpuid(g.dev);
	e = ev_cpuid(cpuid, 1, 0);
	if (!e || !(e->ecx & (1u << 26)) || khv_ioctl(g.dev, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) {
		for (int i = 0; i < 10; i++)
			tap_skip("no XSAVE in KVM_GET_SUPPORTED_CPUID or no KVM_CAP_XCRS", "KVM_GET/SET_XCRS");
		goto out;
	}
	e = ev_cpuid(cpuid, 0xd, 0);
	avx = e && (e->eax & 4);

	memset(&x, 0xff, sizeof(x));
	r = khv_ioctl_p(g.vcpu, KVM_GET_XCRS, &x);
	tap_ok(r == 0 && x.nr_xcrs == 1 && x.flags == 0 && x.xcrs[0].xcr == 0 &&
	       x.xcrs[0].value == 1,
	       "KVM_GET_XCRS at reset (%ld): nr_xcrs %u flags %u xcr %u value 0x%llx", r,
	       x.nr_xcrs, x.flags, x.xcrs[0].xcr, (unsigned long long)x.xcrs[0].value);
	EXPECT_EQ(set_xcr0(g.vcpu, 0, 1, 0, 3), -EINVAL,
		  "XCR0 = x87|SSE before KVM_SET_CPUID2 (the vCPU's CPUID has no leaf 0xd): EINVAL");
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_CPUID2, cpuid), 0,
		  "KVM_SET_CPUID2 with KVM_GET_SUPPORTED_CPUID's table");
	r = set_xcr0(g.vcpu, 0, 1, 0, 3);
	tap_ok(r == 0 && get_xcr0(g.vcpu) == 3, "XCR0 = x87|SSE (%ld): reads back 0x%llx", r,
	       (unsigned long long)get_xcr0(g.vcpu));
	EXPECT_EQ(set_xcr0(g.vcpu, 0, 1, 0, 0), -EINVAL, "XCR0 = 0 (no x87): EINVAL");
	EXPECT_EQ(set_xcr0(g.vcpu, 0, 1, 0, 5), -EINVAL, "XCR0 = x87|AVX without SSE: EINVAL");
	EXPECT_EQ(set_xcr0(g.vcpu, 1, 1, 0, 3), -EINVAL, "KVM_SET_XCRS flags 1: EINVAL");
	EXPECT_EQ(set_xcr0(g.vcpu, 0, KVM_MAX_XCRS + 1, 0, 3), -EINVAL,
		  "KVM_SET_XCRS nr_xcrs %d: EINVAL", KVM_MAX_XCRS + 1);
	r = set_xcr0(g.vcpu, 0, 1, 1, 7);
	tap_ok(r == 0 && get_xcr0(g.vcpu) == 3,
	       "KVM_SET_XCRS of XCR1 only is ignored (%ld), XCR0 still 0x%llx", r,
	       (unsigned long long)get_xcr0(g.vcpu));
	if (avx) {
		r = set_xcr0(g.vcpu, 0, 1, 0, 7);
		tap_ok(r == 0 && get_xcr0(g.vcpu) == 7, "XCR0 = x87|SSE|AVX (%ld): reads back 0x%llx",
		       r, (unsigned long long)get_xcr0(g.vcpu));
	} else {
		tap_skip("no AVX in CPUID leaf 0xd", "XCR0 = x87|SSE|AVX");
	}
out:
	free(cpuid);
	khv_guest_destroy(&g);
}

/* MP state: 5 points. */
static void test_mp_state(void)
{
	static const uint32_t refused[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED, KVM_MP_STATE_HALTED,
		KVM_MP_STATE_SIPI_RECEIVED, KVM_MP_STATE_STOPPED, KVM_MP_STATE_CHECK_STOP,
		KVM_MP_STATE_OPERATING, KVM_MP_STATE_LOAD, KVM_MP_STATE_AP_RESET_HOLD,
		KVM_MP_STATE_SUSPENDED, 99,
	};
	struct kvm_mp_state mp = { 0xff };
	struct khv_guest g;
	unsigned int bad = 0;
	long r;

	ev_create(&g, code_out, EV_LEN(code_out));
	tap_ok(khv_ioctl(g.dev, KVM_CHECK_EXTENSION, KVM_CAP_MP_STATE) > 0, "KVM_CAP_MP_STATE");
	r = khv_ioctl_p(g.vcpu, KVM_GET_MP_STATE, &mp);
	tap_ok(r == 0 && mp.mp_state == KVM_MP_STATE_RUNNABLE,
	       "KVM_GET_MP_STATE (%ld): %u (RUNNABLE)", r, mp.mp_state);
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_MP_STATE, &mp), 0, "KVM_SET_MP_STATE RUNNABLE");
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		mp.mp_state = refused[i];
		r = khv_ioctl_p(g.vcpu, KVM_SET_MP_STATE, &mp);
		if (r != -EINVAL) {
			tap_diag("  KVM_SET_MP_STATE %u: %ld", refused[i], r);
			bad++;
		}
	}
	tap_ok(bad == 0, "KVM_SET_MP_STATE of any other state (no in-kernel LAPIC): EINVAL");
	ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, NULL);
	ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, NULL);
	ev_run_io(&g, KVM_EXIT_IO_OUT, 0x12, NULL);
	r = ev_run_exit(&g, KVM_EXIT_HLT);
	mp.mp_state = 0xff;
	khv_ioctl_p(g.vcpu, KVM_GET_MP_STATE, &mp);
	tap_ok(r && mp.mp_state == KVM_MP_STATE_RUNNABLE,
	       "after a HLT exit the vCPU is still RUNNABLE (%u)", mp.mp_state);
	khv_guest_destroy(&g);
}

/* TSS and identity map addresses: 6 points. */
static void test_vm_addrs(void)
{
	uint64_t ident = 0xfffbc000;
	int dev = khv_open_dev(), vm = khv_create_vm(dev), vcpu;

	EXPECT_EQ(khv_ioctl_p(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident), 0,
		  "KVM_SET_IDENTITY_MAP_ADDR 0x%llx before any vCPU", (unsigned long long)ident);
	EXPECT_EQ(khv_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, 8), -EFAULT,
		  "KVM_SET_IDENTITY_MAP_ADDR with a bad pointer: EFAULT");
	EXPECT_EQ(khv_ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000), 0, "KVM_SET_TSS_ADDR 0xfffbd000");
	EXPECT_EQ(khv_ioctl(vm, KVM_SET_TSS_ADDR, 0xffffe000), -EINVAL,
		  "KVM_SET_TSS_ADDR 0xffffe000 (3 pages do not fit below 4 GiB): EINVAL");
	vcpu = khv_create_vcpu(vm, 0);
	EXPECT_EQ(khv_ioctl_p(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident), -EINVAL,
		  "KVM_SET_IDENTITY_MAP_ADDR after a vCPU exists: EINVAL");
	EXPECT_EQ(khv_ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000), 0,
		  "KVM_SET_TSS_ADDR after a vCPU exists");
	close(vcpu);
	close(vm);
	close(dev);
}

/* cr8 and apic_base: 9 points. */
static void test_cr8_apic_base(void)
{
	struct kvm_sregs sregs;
	struct khv_guest g;
	int vcpu1;
	bool ok;
	long r;

	ev_create(&g, code_out, EV_LEN(code_out));
	ev_get_sregs(&g, &sregs);
	tap_ok(sregs.apic_base == 0xfee00900 && sregs.cr8 == 0,
	       "vCPU 0 at reset: apic_base 0x%llx (enabled, BSP), cr8 %llu",
	       sregs.apic_base, sregs.cr8);
	vcpu1 = khv_create_vcpu(g.vm, 1);
	memset(&sregs, 0, sizeof(sregs));
	khv_ioctl_p(vcpu1, KVM_GET_SREGS, &sregs);
	tap_ok(sregs.apic_base == 0xfee00800, "vCPU 1 at reset: apic_base 0x%llx (not BSP)",
	       sregs.apic_base);
	close(vcpu1);

	ev_get_sregs(&g, &sregs);
	sregs.cr8 = 5;
	r = ev_set_sregs(&g, &sregs);
	ev_get_sregs(&g, &sregs);
	tap_ok(r == 0 && sregs.cr8 == 5, "KVM_SET_SREGS cr8 5 (%ld): reads back %llu", r, sregs.cr8);

	g.run->cr8 = 7;
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x10, NULL);
	ev_get_sregs(&g, &sregs);
	tap_ok(ok && g.run->cr8 == 7 && sregs.cr8 == 7,
	       "KVM_RUN takes kvm_run->cr8 7 as the new cr8 (kvm_run %llu, sregs %llu)",
	       g.run->cr8, sregs.cr8);
	tap_ok(g.run->apic_base == 0xfee00900, "kvm_run->apic_base 0x%llx", g.run->apic_base);

	g.run->cr8 = 16;
	EXPECT_EQ(khv_guest_run(&g), -EINVAL, "KVM_RUN with kvm_run->cr8 16 (reserved bits): EINVAL");
	g.run->cr8 = 7;

	ev_get_sregs(&g, &sregs);
	sregs.apic_base = 0xfec00800;
	r = ev_set_sregs(&g, &sregs);
	ev_get_sregs(&g, &sregs);
	ok = ev_run_io(&g, KVM_EXIT_IO_OUT, 0x11, NULL);
	tap_ok(r == 0 && sregs.apic_base == 0xfec00800 && ok && g.run->apic_base == 0xfec00800,
	       "KVM_SET_SREGS apic_base 0xfec00800 (%ld): sregs 0x%llx, kvm_run 0x%llx", r,
	       sregs.apic_base, g.run->apic_base);

	sregs.apic_base = 0xfee00400;
	EXPECT_EQ(ev_set_sregs(&g, &sregs), -EINVAL,
		  "KVM_SET_SREGS apic_base with x2APIC mode but not enabled: EINVAL");
	sregs.apic_base = 0xfee00d00;
	EXPECT_EQ(ev_set_sregs(&g, &sregs), -EINVAL,
		  "KVM_SET_SREGS apic_base in x2APIC mode, CPUID without x2APIC: EINVAL");
	khv_guest_destroy(&g);
}

int main(void)
{
	tap_plan(21 + 10 + 5 + 6 + 9);
	test_fpu_xsave();
	test_xcrs();
	test_mp_state();
	test_vm_addrs();
	test_cr8_apic_base();
	return tap_finish();
}
