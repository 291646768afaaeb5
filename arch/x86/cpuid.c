// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's CPUID table: KVM_SET_CPUID2 / KVM_GET_CPUID2, and lookups for
 * the CPUID exit.
 */
#include <linux/mm.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <khv/khv.h>

/* KVM's limit on KVM_SET_CPUID2 entries. */
#define KHV_MAX_CPUID_ENTRIES	256

long khv_set_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, u, sizeof(c)))
		return -EFAULT;
	if (c.nent > KHV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (c.nent) {
		e = vmemdup_user(u->entries, array_size(c.nent, sizeof(*e)));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	kvfree(vcpu->arch.cpuid);
	vcpu->arch.cpuid = e;
	vcpu->arch.cpuid_nent = c.nent;
	return 0;
}

long khv_get_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	struct kvm_cpuid2 c;
	int n = vcpu->arch.cpuid_nent;

	if (copy_from_user(&c, u, sizeof(c)))
		return -EFAULT;
	if (c.nent < n) {
		/* Tell user space how many there are (KVM does, too). */
		c.nent = n;
		return copy_to_user(&u->nent, &c.nent, sizeof(c.nent)) ?
			-EFAULT : -E2BIG;
	}
	c.nent = n;
	if (copy_to_user(&u->nent, &c.nent, sizeof(c.nent)) ||
	    copy_to_user(u->entries, vcpu->arch.cpuid,
			 array_size(n, sizeof(*vcpu->arch.cpuid))))
		return -EFAULT;
	return 0;
}

const struct kvm_cpuid_entry2 *khv_cpuid_find(struct khv_vcpu *vcpu,
					      u32 function, u32 index)
{
	int i;

	for (i = 0; i < vcpu->arch.cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vcpu->arch.cpuid[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != index)
			continue;
		return e;
	}
	return NULL;
}

/*
 * KVM_GET_SUPPORTED_CPUID: the host's CPUID, filtered to what khv
 * virtualizes. Features are passed through only from the allow-lists
 * below, so a new CPU's new feature stays hidden until khv knows it.
 * Not yet virtualized, so hidden: XSAVE and everything it enables (AVX...:
 * XSETBV is not handled yet), MONITOR/MWAIT, VMX/SVM (no nesting), x2APIC
 * and the TSC deadline timer (no in-kernel APIC), PMU, SGX, PKU.
 */
#define F(bit)	BIT(bit)

/* Leaf 1. */
#define KHV_CPUID1_EDX	(F(0) | F(1) | F(2) | F(3) | F(4) | F(5) | F(6) | F(7) | \
			 F(8) | F(9) | F(11) | F(12) | F(13) | F(14) | F(15) | \
			 F(16) | F(17) | F(19) | F(23) | F(24) | F(25) | F(26) | \
			 F(27) | F(28))
	/* FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT
	 * PSE36 CLFLUSH MMX FXSR SSE SSE2 SS HTT */
#define KHV_CPUID1_ECX	(F(0) | F(1) | F(9) | F(13) | F(19) | F(20) | F(22) | \
			 F(23) | F(25) | F(30))
	/* SSE3 PCLMULQDQ SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES RDRAND */
#define KHV_CPUID1_ECX_XSAVE	(F(12) | F(26) | F(28) | F(29))
	/* FMA XSAVE AVX F16C: with XSAVE, which khv switches (XCR0). OSXSAVE
	 * (bit 27) follows the guest's CR4 when the guest runs CPUID. */
#define KHV_CPUID7_EBX_AVX	F(5)		/* AVX2 */
#define KHV_CPUID7_EBX_AVX512	(F(16) | F(17) | F(28) | F(30) | F(31))
	/* AVX512F DQ CD BW VL */
#define KHV_CPUIDD1_EAX		(F(0) | F(1) | F(2))
	/* XSAVEOPT XSAVEC XGETBV1; not XSAVES (no IA32_XSS) */
/* Leaf 7 subleaf 0. */
#define KHV_CPUID7_EBX	(F(0) | F(3) | F(7) | F(8) | F(9) | F(18) | F(19) | \
			 F(20) | F(23) | F(29))
	/* FSGSBASE BMI1 SMEP BMI2 ERMS RDSEED ADX SMAP CLFLUSHOPT SHA */
#define KHV_CPUID7_ECX	(F(22))		/* RDPID */
/* Leaf 0x80000001. */
#define KHV_CPUIDX1_EDX	(F(11) | F(20) | F(26) | F(27) | F(29))
	/* SYSCALL NX 1GB-pages RDTSCP LM */
#define KHV_CPUIDX1_ECX	(F(0) | F(5) | F(6) | F(8))
	/* LAHF_LM ABM SSE4A PREFETCHW */

#define KHV_CPUID_MAX_BASIC	0xd
#define KHV_CPUID_MAX_EXT	0x80000008

struct khv_cpuid_out {
	struct kvm_cpuid_entry2 *e;
	int n, max;
};

static struct kvm_cpuid_entry2 *khv_cpuid_add(struct khv_cpuid_out *o,
					      u32 fn, u32 idx, u32 flags)
{
	struct kvm_cpuid_entry2 *e;

	if (o->n >= o->max)
		return NULL;
	e = &o->e[o->n++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	if (fn < 0x40000000 || fn >= 0x80000000)
		cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return e;
}

/* The vCPU's physical-address width, from CPUID 0x80000008 (else 36). */
unsigned int khv_cpuid_maxphyaddr(struct khv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = khv_cpuid_find(vcpu, 0x80000008, 0);

	return e && (e->eax & 0xff) ? min_t(u32, e->eax & 0xff, 52) : 36;
}

/*
 * Bytes an XSAVE image of the components in @xcr0 takes (standard
 * format): the legacy area and header, then each component at the offset
 * CPUID 0xd gives.
 */
u32 khv_xstate_size(u64 xcr0)
{
	u32 size = 512 + 64, eax, ebx, ecx, edx;
	int i;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		size = max(size, eax + ebx);
	}
	return size;
}

static int khv_cpuid_fill(struct khv_cpuid_out *o)
{
	u64 xcr0 = khv_supported_xcr0();
	struct kvm_cpuid_entry2 *e;
	u32 fn, max;
	int i;

	max = min_t(u32, cpuid_eax(0), KHV_CPUID_MAX_BASIC);
	for (fn = 0; fn <= max; fn++) {
		switch (fn) {
		case 0:
			e = khv_cpuid_add(o, fn, 0, 0);
			if (e)
				e->eax = max;
			break;
		case 1:
			e = khv_cpuid_add(o, fn, 0, 0);
			if (!e)
				break;
			e->edx &= KHV_CPUID1_EDX;
			e->ecx &= KHV_CPUID1_ECX |
				  (xcr0 & XFEATURE_MASK_YMM ? KHV_CPUID1_ECX_XSAVE :
				   boot_cpu_has(X86_FEATURE_XSAVE) ? F(26) : 0);
			e->ecx |= F(31);	/* hypervisor */
			/* Initial APIC id and logical count: user space sets them. */
			e->ebx &= 0xffff;
			break;
		case 2:
		case 5:
			e = khv_cpuid_add(o, fn, 0, 0);
			if (e && fn == 5)
				e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 4:
			/* Cache descriptors, one subleaf per cache, until type 0. */
			for (i = 0; i < 64; i++) {
				e = khv_cpuid_add(o, fn, i, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
				if (!e)
					return -E2BIG;
				e->eax &= ~GENMASK(31, 26);	/* cores per package */
				if (!(e->eax & 0x1f))
					break;
			}
			break;
		case 7:
			e = khv_cpuid_add(o, fn, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (!e)
				break;
			e->eax = 0;		/* no further subleaves */
			e->ebx &= KHV_CPUID7_EBX |
				  (xcr0 & XFEATURE_MASK_YMM ? KHV_CPUID7_EBX_AVX : 0) |
				  (xcr0 & XFEATURE_MASK_AVX512 ? KHV_CPUID7_EBX_AVX512 : 0);
			e->ecx &= KHV_CPUID7_ECX;
			e->edx = 0;
			break;
		case 0xd:
			if (!boot_cpu_has(X86_FEATURE_XSAVE))
				break;
			/* Subleaf 0: features, sizes; 1: XSAVE variants. */
			e = khv_cpuid_add(o, fn, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (!e)
				break;
			e->eax = (u32)xcr0;
			e->edx = xcr0 >> 32;
			e->ebx = khv_xstate_size(XFEATURE_MASK_FPSSE);
			e->ecx = khv_xstate_size(xcr0);
			e = khv_cpuid_add(o, fn, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (!e)
				break;
			e->eax &= KHV_CPUIDD1_EAX;
			e->ebx = e->ecx = e->edx = 0;
			/* One subleaf per user state component: size, offset. */
			for (i = 2; i < 64; i++) {
				if (!(xcr0 & BIT_ULL(i)))
					continue;
				e = khv_cpuid_add(o, fn, i, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
				if (!e)
					break;
				e->ecx &= 1;	/* bit 0: XSS component (none) */
				e->edx = 0;
			}
			break;
		default:
			/* 3, 6, 8..0xc: nothing khv virtualizes. */
			break;
		}
		if (o->n >= o->max)
			return -E2BIG;
	}

	/* The hypervisor leaves, with KVM's signature and no KVM PV features. */
	e = khv_cpuid_add(o, 0x40000000, 0, 0);
	if (!e)
		return -E2BIG;
	e->eax = 0x40000001;
	memcpy(&e->ebx, "KVMK", 4);
	memcpy(&e->ecx, "VMKV", 4);
	memcpy(&e->edx, "M\0\0\0", 4);
	if (!khv_cpuid_add(o, 0x40000001, 0, 0))
		return -E2BIG;

	max = min_t(u32, cpuid_eax(0x80000000), KHV_CPUID_MAX_EXT);
	for (fn = 0x80000000; fn <= max; fn++) {
		e = khv_cpuid_add(o, fn, 0, 0);
		if (!e)
			return -E2BIG;
		switch (fn) {
		case 0x80000000:
			e->eax = max;
			break;
		case 0x80000001:
			e->edx &= KHV_CPUIDX1_EDX;
			e->ecx &= KHV_CPUIDX1_ECX;
			e->eax &= 0x0fff3fff;
			e->ebx = 0;
			break;
		case 0x80000007:
			e->edx &= F(8);		/* invariant TSC */
			e->eax = e->ebx = e->ecx = 0;
			break;
		case 0x80000008:
			/* Address sizes only. */
			e->eax &= 0xffff;
			e->ebx = e->ecx = e->edx = 0;
			break;
		default:
			/* 0x80000002-4 brand string, 5-6 caches: as they are. */
			break;
		}
	}
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID on /dev/khv (E2BIG protocol as KVM's). */
long khv_get_supported_cpuid(struct kvm_cpuid2 __user *u)
{
	struct khv_cpuid_out o = { .max = KHV_MAX_CPUID_ENTRIES };
	struct kvm_cpuid2 c;
	long r;

	if (copy_from_user(&c, u, sizeof(c)))
		return -EFAULT;
	if (c.nent < 1)
		return -E2BIG;
	o.max = min_t(int, c.nent, KHV_MAX_CPUID_ENTRIES);
	o.e = kvcalloc(o.max, sizeof(*o.e), GFP_KERNEL_ACCOUNT);
	if (!o.e)
		return -ENOMEM;
	r = khv_cpuid_fill(&o);
	if (!r) {
		c.nent = o.n;
		if (copy_to_user(&u->nent, &c.nent, sizeof(c.nent)) ||
		    copy_to_user(u->entries, o.e, array_size(o.n, sizeof(*o.e))))
			r = -EFAULT;
	}
	kvfree(o.e);
	return r;
}
