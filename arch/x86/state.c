// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU state ioctls that need no backend: the FPU and XSAVE image, XCR0,
 * debug registers, the multiprocessing state. Everything here runs under
 * vcpu->mutex, outside KVM_RUN, when the guest's FPU state is in its
 * fpstate buffer (the run loop swaps it back before returning).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>

#include <khv/khv.h>

/* XSAVE features khv lets a guest enable: x87, SSE, AVX, AVX-512. */
#define KHV_XCR0_OFFERED	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | \
				 XFEATURE_MASK_YMM | XFEATURE_MASK_AVX512)

/* What the host has enabled of that: the guest gets no more. */
u64 khv_supported_xcr0(void)
{
	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return XFEATURE_MASK_FPSSE;
	return xgetbv(XCR_XFEATURE_ENABLED_MASK) & KHV_XCR0_OFFERED;
}

/* XCR0 bits the vCPU's CPUID (leaf 0xd) allows; x87 always. */
static u64 khv_guest_supported_xcr0(struct khv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e1 = khv_cpuid_find(vcpu, 1, 0);
	const struct kvm_cpuid_entry2 *ed = khv_cpuid_find(vcpu, 0xd, 0);

	if (!e1 || !(e1->ecx & BIT(X86_FEATURE_XSAVE & 31)) || !ed)
		return XFEATURE_MASK_FP;
	return ((ed->eax | ((u64)ed->edx << 32)) & khv_supported_xcr0()) |
	       XFEATURE_MASK_FP;
}

/**
 * khv_set_xcr0 - check and set the guest's XCR0 (XSETBV, KVM_SET_XCRS)
 * @vcpu: the vCPU
 * @xcr0: the new value
 *
 * Returns 0, or -EINVAL for a value XSETBV refuses with #GP (SDM vol. 1,
 * 13.3): x87 clear, AVX without SSE, AVX-512 partly or without AVX, a
 * feature the vCPU's CPUID does not offer.
 */
int khv_set_xcr0(struct khv_vcpu *vcpu, u64 xcr0)
{
	if (!(xcr0 & XFEATURE_MASK_FP))
		return -EINVAL;
	if (xcr0 & ~khv_guest_supported_xcr0(vcpu))
		return -EINVAL;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return -EINVAL;
	if (xcr0 & XFEATURE_MASK_AVX512) {
		if ((xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512 ||
		    !(xcr0 & XFEATURE_MASK_YMM))
			return -EINVAL;
	}
	vcpu->arch.xcr0 = xcr0;
	return 0;
}

static long khv_get_xcrs(struct khv_vcpu *vcpu, struct kvm_xcrs __user *u)
{
	struct kvm_xcrs x;

	memset(&x, 0, sizeof(x));
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		x.nr_xcrs = 1;
		x.xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
		x.xcrs[0].value = vcpu->arch.xcr0;
	}
	return copy_to_user(u, &x, sizeof(x)) ? -EFAULT : 0;
}

static long khv_set_xcrs(struct khv_vcpu *vcpu, struct kvm_xcrs __user *u)
{
	struct kvm_xcrs x;
	unsigned int i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (copy_from_user(&x, u, sizeof(x)))
		return -EFAULT;
	if (x.nr_xcrs > KVM_MAX_XCRS || x.flags)
		return -EINVAL;
	/* Only XCR0 exists: the first entry for it counts, others are ignored. */
	for (i = 0; i < x.nr_xcrs; i++) {
		if (x.xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK)
			continue;
		/* khv_set_xcr0() changes nothing when it refuses. */
		if (khv_set_xcr0(vcpu, x.xcrs[i].value))
			return -EINVAL;
		break;
	}
	return 0;
}

/* KVM_GET/SET_XSAVE: the kernel's user-ABI XSAVE image, 4 KiB. */
static long khv_get_xsave(struct khv_vcpu *vcpu, struct kvm_xsave __user *u)
{
	struct kvm_xsave *x = kzalloc(sizeof(*x), GFP_KERNEL_ACCOUNT);
	long r;

	if (!x)
		return -ENOMEM;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->arch.guest_fpu, x->region,
				       sizeof(x->region), khv_supported_xcr0(),
				       vcpu->arch.pkru);
	r = copy_to_user(u, x, sizeof(*x)) ? -EFAULT : 0;
	kfree(x);
	return r;
}

static long khv_set_xsave(struct khv_vcpu *vcpu, struct kvm_xsave __user *u)
{
	struct kvm_xsave *x = memdup_user(u, sizeof(*x));
	long r;

	if (IS_ERR(x))
		return PTR_ERR(x);
	/* Refuses features not offered and MXCSR reserved bits: -EINVAL. */
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->arch.guest_fpu, x->region,
					   khv_supported_xcr0(),
					   &vcpu->arch.pkru);
	kfree(x);
	return r;
}

/*
 * KVM_GET/SET_FPU: the legacy (FXSAVE) part of the same image. SET goes
 * through the XSAVE image so that an MXCSR the CPU would refuse is
 * -EINVAL here rather than a fault when the host loads it.
 */
static long khv_fpu_ioctl(struct khv_vcpu *vcpu, struct kvm_fpu __user *u,
			  bool set)
{
	struct kvm_xsave *x = kzalloc(sizeof(*x), GFP_KERNEL_ACCOUNT);
	struct fxregs_state *fx;
	struct xstate_header *hdr;
	struct kvm_fpu *f = NULL;
	long r = 0;

	if (!x)
		return -ENOMEM;
	fx = (struct fxregs_state *)x->region;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->arch.guest_fpu, x->region,
				       sizeof(x->region), khv_supported_xcr0(),
				       vcpu->arch.pkru);
	if (!set) {
		f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
		if (!f) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(f->fpr, fx->st_space, sizeof(f->fpr));
		f->fcw = fx->cwd;
		f->fsw = fx->swd;
		f->ftwx = fx->twd;
		f->last_opcode = fx->fop;
		f->last_ip = fx->rip;
		f->last_dp = fx->rdp;
		memcpy(f->xmm, fx->xmm_space, sizeof(f->xmm));
		f->mxcsr = fx->mxcsr;
		r = copy_to_user(u, f, sizeof(*f)) ? -EFAULT : 0;
		goto out;
	}
	f = memdup_user(u, sizeof(*f));
	if (IS_ERR(f)) {
		r = PTR_ERR(f);
		f = NULL;
		goto out;
	}
	memcpy(fx->st_space, f->fpr, sizeof(f->fpr));
	fx->cwd = f->fcw;
	fx->swd = f->fsw;
	fx->twd = f->ftwx;
	fx->fop = f->last_opcode;
	fx->rip = f->last_ip;
	fx->rdp = f->last_dp;
	memcpy(fx->xmm_space, f->xmm, sizeof(f->xmm));
	fx->mxcsr = f->mxcsr;
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		/* The legacy area now holds live x87 and SSE state. */
		hdr = (struct xstate_header *)(x->region + 512 / sizeof(u32));
		hdr->xfeatures |= XFEATURE_MASK_FPSSE;
	}
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->arch.guest_fpu, x->region,
					   khv_supported_xcr0(),
					   &vcpu->arch.pkru);
out:
	kfree(f);
	kfree(x);
	return r;
}

/* DR6 and DR7 hold 32 bits; the upper half must be 0. */
static long khv_debugregs_ioctl(struct khv_vcpu *vcpu,
				struct kvm_debugregs __user *u, bool set)
{
	struct kvm_debugregs d;

	if (!set) {
		memset(&d, 0, sizeof(d));
		memcpy(d.db, vcpu->arch.db, sizeof(d.db));
		d.dr6 = vcpu->arch.dr6;
		d.dr7 = vcpu->arch.dr7;
		return copy_to_user(u, &d, sizeof(d)) ? -EFAULT : 0;
	}
	if (copy_from_user(&d, u, sizeof(d)))
		return -EFAULT;
	if (d.flags || (d.dr6 >> 32) || (d.dr7 >> 32))
		return -EINVAL;
	memcpy(vcpu->arch.db, d.db, sizeof(d.db));
	vcpu->arch.dr6 = d.dr6;
	vcpu->arch.dr7 = d.dr7;
	return 0;
}

/*
 * Without an in-kernel local APIC a vCPU is always runnable: HLT exits to
 * user space, which owns INIT/SIPI. Other states are refused, as by KVM.
 */
static long khv_mp_state_ioctl(struct khv_vcpu *vcpu,
			       struct kvm_mp_state __user *u, bool set)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (!set)
		return copy_to_user(u, &mp, sizeof(mp)) ? -EFAULT : 0;
	if (copy_from_user(&mp, u, sizeof(mp)))
		return -EFAULT;
	return mp.mp_state == KVM_MP_STATE_RUNNABLE ? 0 : -EINVAL;
}

long khv_state_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		     void __user *argp)
{
	switch (ioctl) {
	case KVM_GET_FPU:
	case KVM_SET_FPU:
		return khv_fpu_ioctl(vcpu, argp, ioctl == KVM_SET_FPU);
	case KVM_GET_XSAVE:
		return khv_get_xsave(vcpu, argp);
	case KVM_SET_XSAVE:
		return khv_set_xsave(vcpu, argp);
	case KVM_GET_XCRS:
		return khv_get_xcrs(vcpu, argp);
	case KVM_SET_XCRS:
		return khv_set_xcrs(vcpu, argp);
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
		return khv_debugregs_ioctl(vcpu, argp, ioctl == KVM_SET_DEBUGREGS);
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
		return khv_mp_state_ioctl(vcpu, argp, ioctl == KVM_SET_MP_STATE);
	default:
		return -EINVAL;
	}
}
