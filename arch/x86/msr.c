// SPDX-License-Identifier: GPL-2.0-only
/*
 * Model-specific registers: guest RDMSR/WRMSR, KVM_GET/SET_MSRS and
 * KVM_GET_MSR_INDEX_LIST, for both backends.
 *
 * An MSR is either held by the backend (the hardware switches it: VMCB or
 * VMCS fields, reached through ops->get_msr/set_msr) or by this file
 * (vcpu->arch.msr). Anything else is unknown: the guest gets #GP, and
 * KVM_GET/SET_MSRS stop there, returning how many entries were done.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/tlbflush.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/* IA32_MTRR_PHYSBASE0; PHYSMASK0 follows, then the next pair. */
#define KHV_MSR_MTRR_VAR_FIRST	0x200

/* MSRs khv saves and restores for user space (KVM_GET_MSR_INDEX_LIST). */
static const u32 khv_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_EFER, MSR_IA32_CR_PAT, MSR_IA32_TSC, MSR_IA32_APICBASE,
	MSR_IA32_MISC_ENABLE, MSR_MTRRdefType, MSR_MTRRfix64K_00000,
	MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
	MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
	MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
};

static bool khv_mtrr_fixed(u32 index, int *slot)
{
	static const u32 fixed[] = {
		MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
		MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
		MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
		MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(fixed); i++) {
		if (fixed[i] == index) {
			*slot = i;
			return true;
		}
	}
	return false;
}

/* A memory type the MTRRs accept: UC, WC, WT, WP, WB. */
static bool khv_mtrr_type_ok(u8 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool khv_mtrr_fixed_ok(u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!khv_mtrr_type_ok(v >> (8 * i)))
			return false;
	return true;
}

/*
 * Address MSRs refuse non-canonical values (linear-address width of the
 * host's paging, 48 or 57 bits).
 */
static bool khv_msr_canonical(u64 v)
{
	unsigned int bits = (cr4_read_shadow() & X86_CR4_LA57) ? 57 : 48;

	return (u64)((s64)(v << (64 - bits)) >> (64 - bits)) == v;
}

/* PAT: eight memory types, each UC, WC, WT, WP, WB or UC-. */
static bool khv_pat_ok(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/*
 * The architectural checks of a write, the same whichever backend holds the
 * MSR: true if the value is acceptable.
 */
static bool khv_msr_value_ok(u32 index, u64 data)
{
	switch (index) {
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return khv_msr_canonical(data);
	case MSR_IA32_CR_PAT:
		return khv_pat_ok(data);
	default:
		return true;
	}
}

/* Returns 0, or 1 if the MSR does not exist (#GP). */
int khv_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;
	struct khv_msrs *m = &vcpu->arch.msr;
	int r, slot;

	if (ops->get_msr) {
		r = ops->get_msr(vcpu, index, data);
		if (r <= 0)
			return r ? 1 : 0;
	}
	if (khv_mtrr_fixed(index, &slot)) {
		*data = m->mtrr_fixed[slot];
		return 0;
	}
	if (index >= KHV_MSR_MTRR_VAR_FIRST &&
	    index < (KHV_MSR_MTRR_VAR_FIRST + 2 * KHV_NR_VAR_MTRR)) {
		*data = m->mtrr_var[index - KHV_MSR_MTRR_VAR_FIRST];
		return 0;
	}
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = m->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = m->misc_enable;
		return 0;
	case MSR_MTRRcap:
		/* Fixed ranges, write-combining, KHV_NR_VAR_MTRR variable. */
		*data = BIT(8) | BIT(10) | KHV_NR_VAR_MTRR;
		return 0;
	case MSR_MTRRdefType:
		*data = m->mtrr_def_type;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = 0;		/* no banks */
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = m->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		/* Only present with MCG_CAP.MCG_CTL_P, which khv does not set. */
		return 1;
	case MSR_IA32_UCODE_REV:
		*data = 0x100000000ULL;
		return 0;
	default:
		return 1;
	}
}

/*
 * Returns 0, or 1 if the MSR does not exist or refuses the value (#GP).
 * @host: the write comes from KVM_SET_MSRS (user space may restore state
 * the guest could not write).
 */
int khv_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;
	struct khv_msrs *m = &vcpu->arch.msr;
	int r, slot;

	if (!khv_msr_value_ok(index, data))
		return 1;
	if (ops->set_msr) {
		r = ops->set_msr(vcpu, index, data);
		if (r <= 0)
			return r ? 1 : 0;
	}
	if (khv_mtrr_fixed(index, &slot)) {
		if (!khv_mtrr_fixed_ok(data))
			return 1;
		m->mtrr_fixed[slot] = data;
		return 0;
	}
	if (index >= KHV_MSR_MTRR_VAR_FIRST &&
	    index < (KHV_MSR_MTRR_VAR_FIRST + 2 * KHV_NR_VAR_MTRR)) {
		m->mtrr_var[index - KHV_MSR_MTRR_VAR_FIRST] = data;
		return 0;
	}
	switch (index) {
	case MSR_IA32_APICBASE:
		/* No in-kernel APIC: keep the value, refuse reserved bits. */
		if (data & ~(MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_ENABLE |
			     X2APIC_ENABLE | GENMASK_ULL(51, 12)))
			return 1;
		m->apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		if (!host && ((data ^ m->misc_enable) & ~MSR_IA32_MISC_ENABLE_FAST_STRING))
			return 1;
		m->misc_enable = data;
		return 0;
	case MSR_MTRRdefType:
		if ((data & ~(0xffULL | BIT(10) | BIT(11))) ||
		    !khv_mtrr_type_ok(data & 0xff))
			return 1;
		m->mtrr_def_type = data;
		return 0;
	case MSR_IA32_MCG_STATUS:
		m->mcg_status = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		return host ? 0 : 1;
	default:
		return 1;
	}
}

void khv_msr_reset(struct khv_vcpu *vcpu)
{
	struct khv_msrs *m = &vcpu->arch.msr;

	memset(m, 0, sizeof(*m));
	m->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->vcpu_id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	m->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL |
			 MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
}

/* KVM_GET_MSRS / KVM_SET_MSRS: entries in order; returns how many were done. */
long khv_msrs_ioctl(struct khv_vcpu *vcpu, struct kvm_msrs __user *u, bool set)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs hdr;
	u32 i;

	if (copy_from_user(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	/* KVM's bound on one call. */
	if (hdr.nmsrs >= 0x10000)
		return -E2BIG;
	e = memdup_user(u->entries, array_size(hdr.nmsrs, sizeof(*e)));
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < hdr.nmsrs; i++) {
		if (set ? khv_set_msr(vcpu, e[i].index, e[i].data, true) :
			  khv_get_msr(vcpu, e[i].index, &e[i].data))
			break;
	}
	if (!set && copy_to_user(u->entries, e, array_size(i, sizeof(*e)))) {
		kfree(e);
		return -EFAULT;
	}
	kfree(e);
	return i;
}

/* KVM_GET_MSR_INDEX_LIST on /dev/khv. */
long khv_msr_index_list(struct kvm_msr_list __user *u)
{
	struct kvm_msr_list hdr;
	u32 n = ARRAY_SIZE(khv_msrs);

	if (copy_from_user(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (put_user(n, &u->nmsrs))
		return -EFAULT;
	if (hdr.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(u->indices, khv_msrs, sizeof(khv_msrs)))
		return -EFAULT;
	return 0;
}
