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
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/mce.h>
#include <asm/msr-index.h>
#include <asm/tlbflush.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/* IA32_MTRR_PHYSBASE0; PHYSMASK0 follows, then the next pair. */
#define KHV_MSR_MTRR_VAR_FIRST	0x200

/* Machine-check banks: KVM's KVM_MAX_MCE_BANKS, KVM_CAP_MCE's value. */
#define KHV_MCE_MAX_BANKS	32
static_assert(ARRAY_SIZE(((struct khv_msrs *)0)->mce_banks) ==
	      4 * KHV_MCE_MAX_BANKS);
static_assert(ARRAY_SIZE(((struct khv_msrs *)0)->mci_ctl2) ==
	      KHV_MCE_MAX_BANKS);
/* HWCR bits a write may have and that read back as 0 (KVM ignores them). */
#define KHV_HWCR_IGNORED	(BIT_ULL(3) | BIT_ULL(6) | BIT_ULL(8))
#define KHV_HWCR_MCSTATUSWREN	BIT_ULL(18)

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
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL, MSR_K7_HWCR,
	/* MSR_IA32_MCG_EXT_CTL follows on VMX (khv_msr_index_list). */
};

/*
 * Is the backend khv-vmx? kvm-intel and kvm-amd differ in a few MSR rules;
 * the CPU decides which backend can load, so decide from the CPU too (this
 * also answers on /dev/khv, where there is no VM).
 */
static bool khv_msr_vmx(void)
{
	return boot_cpu_has(X86_FEATURE_VMX);
}

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
	case MSR_FS_BASE:
	case MSR_GS_BASE:
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

/*
 * Machine-check MSRs, with KVM's rules. Banks are there up to MCG_CAP's
 * count; MCG_CTL needs MCG_CTL_P and the CTL2s MCG_CMCI_P, except that user
 * space may always read them and write 0. MCG_CAP is read-only, for user
 * space too (KVM_X86_SETUP_MCE sets it).
 */
static int khv_mce_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data,
			   bool host)
{
	struct khv_msrs *m = &vcpu->arch.msr;
	unsigned int banks = m->mcg_cap & MCG_BANKCNT_MASK;

	switch (index) {
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
		*data = 0;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = m->mcg_cap;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = m->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(m->mcg_cap & MCG_CTL_P) && !host)
			return 1;
		*data = m->mcg_ctl;
		return 0;
	case MSR_IA32_MCG_EXT_CTL:
		/*
		 * kvm-intel only. The guest needs IA32_FEATURE_CONTROL's
		 * LMCE_ENABLED, which khv does not model: user space only.
		 */
		if (!khv_msr_vmx() || !host)
			return 1;
		*data = m->mcg_ext_ctl;
		return 0;
	case MSR_IA32_MC0_CTL2 ... MSR_IA32_MCx_CTL2(KHV_MCE_MAX_BANKS) - 1:
		if (index >= MSR_IA32_MCx_CTL2(banks) ||
		    (!(m->mcg_cap & MCG_CMCI_P) && !host))
			return 1;
		*data = m->mci_ctl2[array_index_nospec(index - MSR_IA32_MC0_CTL2,
						       banks)];
		return 0;
	case MSR_IA32_MC0_CTL ... MSR_IA32_MCx_CTL(KHV_MCE_MAX_BANKS) - 1:
		if (index >= MSR_IA32_MCx_CTL(banks))
			return 1;
		*data = m->mce_banks[array_index_nospec(index - MSR_IA32_MC0_CTL,
							4 * banks)];
		return 0;
	default:
		return 1;
	}
}

/*
 * A guest may write a non-zero MCi_STATUS only on an AMD CPU (its CPUID
 * vendor, as KVM looks at it) with HWCR.McStatusWrEn set.
 */
static bool khv_mce_status_writable(struct khv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = khv_cpuid_find(vcpu, 0, 0);
	/* "AuthenticAMD" and "HygonGenuine" in EBX, EDX, ECX. */
	bool amd = e && ((e->ebx == 0x68747541 && e->edx == 0x69746e65 &&
			  e->ecx == 0x444d4163) ||
			 (e->ebx == 0x6f677948 && e->edx == 0x6e65476e &&
			  e->ecx == 0x656e6975));

	return amd && (vcpu->arch.msr.hwcr & KHV_HWCR_MCSTATUSWREN);
}

static int khv_mce_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data,
			   bool host)
{
	struct khv_msrs *m = &vcpu->arch.msr;
	unsigned int banks = m->mcg_cap & MCG_BANKCNT_MASK;
	u32 i;

	switch (index) {
	case MSR_IA32_MCG_STATUS:
		m->mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(m->mcg_cap & MCG_CTL_P) && (data || !host))
			return 1;
		if (data != 0 && data != ~0ULL)
			return 1;
		m->mcg_ctl = data;
		return 0;
	case MSR_IA32_MCG_EXT_CTL:
		if (!khv_msr_vmx() || !host || (data & ~MCG_EXT_CTL_LMCE_EN))
			return 1;
		m->mcg_ext_ctl = data;
		return 0;
	case MSR_IA32_MC0_CTL2 ... MSR_IA32_MCx_CTL2(KHV_MCE_MAX_BANKS) - 1:
		if (index >= MSR_IA32_MCx_CTL2(banks))
			return 1;
		if (!(m->mcg_cap & MCG_CMCI_P) && (data || !host))
			return 1;
		if (data & ~(MCI_CTL2_CMCI_EN | MCI_CTL2_CMCI_THRESHOLD_MASK))
			return 1;
		m->mci_ctl2[array_index_nospec(index - MSR_IA32_MC0_CTL2,
					       banks)] = data;
		return 0;
	case MSR_IA32_MC0_CTL ... MSR_IA32_MCx_CTL(KHV_MCE_MAX_BANKS) - 1:
		if (index >= MSR_IA32_MCx_CTL(banks))
			return 1;
		i = index - MSR_IA32_MC0_CTL;
		/*
		 * MCi_CTL: 0 or all ones - but, as KVM, also all ones with
		 * bit 10 clear (Linux's AMD K8 GART erratum workaround on
		 * MC4_CTL) or bit 0 clear (UnixWare on MC1_CTL).
		 */
		if ((i & 3) == 0 && data && (data | BIT_ULL(10) | BIT_ULL(0)) != ~0ULL)
			return 1;
		/* MCi_STATUS: the guest may only clear it, by default. */
		if ((i & 3) == 1 && data && !host && !khv_mce_status_writable(vcpu))
			return 1;
		m->mce_banks[array_index_nospec(i, 4 * banks)] = data;
		return 0;
	default:
		/* MCG_CAP, P5_MC_ADDR/TYPE: read-only. */
		return 1;
	}
}

/*
 * Returns 0, or 1 if the MSR does not exist (#GP). @host: the read comes
 * from KVM_GET_MSRS.
 */
static int khv_msr_get(struct khv_vcpu *vcpu, u32 index, u64 *data, bool host)
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
	case MSR_K7_HWCR:
		*data = m->hwcr;
		return 0;
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_MCG_CTL:
	case MSR_IA32_MCG_EXT_CTL:
	case MSR_IA32_MC0_CTL2 ... MSR_IA32_MCx_CTL2(KHV_MCE_MAX_BANKS) - 1:
	case MSR_IA32_MC0_CTL ... MSR_IA32_MCx_CTL(KHV_MCE_MAX_BANKS) - 1:
		return khv_mce_get_msr(vcpu, index, data, host);
	case MSR_IA32_UCODE_REV:
		*data = 0x100000000ULL;
		return 0;
	default:
		return 1;
	}
}

/* The guest's RDMSR. Returns 0, or 1 if the MSR does not exist (#GP). */
int khv_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	return khv_msr_get(vcpu, index, data, false);
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
	case MSR_IA32_APICBASE: {
		/*
		 * No in-kernel APIC: keep the value, with KVM's checks:
		 * reserved bits (x2APIC only with CPUID's x2APIC bit; the
		 * base within MAXPHYADDR), x2APIC without the enable bit,
		 * and for the guest the mode changes the SDM forbids
		 * (x2APIC to xAPIC, disabled to x2APIC).
		 */
		const struct kvm_cpuid_entry2 *e1 = khv_cpuid_find(vcpu, 1, 0);
		u64 ok = MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_ENABLE |
			 GENMASK_ULL(khv_cpuid_maxphyaddr(vcpu) - 1, 12);
		u64 both = MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE;

		if (e1 && (e1->ecx & BIT(21)))	/* x2APIC */
			ok |= X2APIC_ENABLE;
		if ((data & ~ok) || (data & both) == X2APIC_ENABLE)
			return 1;
		if (!host && (m->apic_base & both) == both &&
		    (data & both) == MSR_IA32_APICBASE_ENABLE)
			return 1;
		if (!host && !(m->apic_base & MSR_IA32_APICBASE_ENABLE) &&
		    (data & both) == both)
			return 1;
		m->apic_base = data;
		return 0;
	}
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
	case MSR_K7_HWCR:
		/*
		 * Only McStatusWrEn can be set; three bits old guests write
		 * are dropped. (KVM 6.1 also ignores a write of 0 once the
		 * bit is set, which later KVM fixed: khv clears it.)
		 */
		data &= ~KHV_HWCR_IGNORED;
		if (data & ~KHV_HWCR_MCSTATUSWREN)
			return 1;
		m->hwcr = data;
		return 0;
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_MCG_CTL:
	case MSR_IA32_MCG_EXT_CTL:
	case MSR_IA32_MC0_CTL2 ... MSR_IA32_MCx_CTL2(KHV_MCE_MAX_BANKS) - 1:
	case MSR_IA32_MC0_CTL ... MSR_IA32_MCx_CTL(KHV_MCE_MAX_BANKS) - 1:
		return khv_mce_set_msr(vcpu, index, data, host);
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
	/*
	 * As KVM's vCPU creation: 32 banks, no MCG_CTL, every MCi_CTL 0
	 * until KVM_X86_SETUP_MCE. (KVM keeps the machine-check state across
	 * INIT and RESET; this is creation only.)
	 */
	m->mcg_cap = KHV_MCE_MAX_BANKS;
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
			  khv_msr_get(vcpu, e[i].index, &e[i].data, true))
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
	u32 n = ARRAY_SIZE(khv_msrs) + (khv_msr_vmx() ? 1 : 0);

	if (copy_from_user(&hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (put_user(n, &u->nmsrs))
		return -EFAULT;
	if (hdr.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(u->indices, khv_msrs, sizeof(khv_msrs)))
		return -EFAULT;
	if (khv_msr_vmx() &&
	    put_user(MSR_IA32_MCG_EXT_CTL, &u->indices[ARRAY_SIZE(khv_msrs)]))
		return -EFAULT;
	return 0;
}

/*
 * Machine checks for user space (QEMU): KVM_X86_SETUP_MCE sizes the banks
 * and KVM_X86_SET_MCE logs an error in one, raising #MC in the guest for an
 * uncorrected one. There is no in-kernel APIC, so there is never a CMCI.
 */

/* MCG_CAP flags KVM_X86_SETUP_MCE accepts: kvm-intel's, or kvm-amd's. */
static u64 khv_mce_cap(void)
{
	u64 cap = MCG_CTL_P | MCG_SER_P;

	if (khv_msr_vmx())
		cap |= MCG_LMCE_P | MCG_CMCI_P;
	return cap;
}

long khv_mce_banks_supported(void)
{
	return KHV_MCE_MAX_BANKS;
}

/* KVM_X86_GET_MCE_CAP_SUPPORTED */
long khv_mce_cap_supported(u64 __user *u)
{
	u64 cap = khv_mce_cap();

	return copy_to_user(u, &cap, sizeof(cap)) ? -EFAULT : 0;
}

/*
 * KVM_X86_SETUP_MCE: 1 to 32 banks, flags from khv_mce_cap(); the extended
 * register count (bits 23:16) passes unchecked, as in KVM. MCG_CTL and every
 * MCi_CTL start all ones (errors reported), the CTL2s 0. Logged errors and
 * MCG_STATUS stay.
 */
static long khv_mce_setup(struct khv_vcpu *vcpu, u64 cap)
{
	struct khv_msrs *m = &vcpu->arch.msr;
	unsigned int banks = cap & MCG_BANKCNT_MASK, i;

	if (!banks || banks > KHV_MCE_MAX_BANKS)
		return -EINVAL;
	if (cap & ~(khv_mce_cap() | MCG_BANKCNT_MASK | MCG_EXT_CNT_MASK))
		return -EINVAL;
	/* kvm-amd keeps bits 8:0 only (the rest is reserved on AMD). */
	if (!khv_msr_vmx())
		cap &= MCG_BANKCNT_MASK | MCG_CTL_P;
	m->mcg_cap = cap;
	if (cap & MCG_CTL_P)
		m->mcg_ctl = ~0ULL;
	for (i = 0; i < banks; i++) {
		m->mce_banks[4 * i] = ~0ULL;
		if (cap & MCG_CMCI_P)
			m->mci_ctl2[i] = 0;
	}
	return 0;
}

/*
 * Uncorrected, no action required (UCNA): no MCG_STATUS, and none of the
 * bits that would make it a machine-check exception.
 */
static bool khv_mce_is_ucna(const struct kvm_x86_mce *mce)
{
	return !mce->mcg_status &&
	       !(mce->status & (MCI_STATUS_PCC | MCI_STATUS_S | MCI_STATUS_AR)) &&
	       (mce->status & MCI_STATUS_UC);
}

static void khv_mce_log(u64 *bank, const struct kvm_x86_mce *mce, u64 status)
{
	bank[1] = status;
	bank[2] = mce->addr;
	bank[3] = mce->misc;
}

/*
 * Is CR4.MCE set? Returns 1 or 0, or -ENOMEM. The vCPU is loaded (the
 * backend reads its VMCS/VMCB).
 */
static int khv_mce_cr4_mce(struct khv_vcpu *vcpu)
{
	struct kvm_sregs *s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	int r;

	if (!s)
		return -ENOMEM;
	vcpu->vm->ops->get_sregs(vcpu, s);
	r = !!(s->cr4 & X86_CR4_MCE);
	kfree(s);
	return r;
}

/*
 * KVM_X86_SET_MCE, KVM's rules:
 *  - a corrected error is logged in the bank (OVER if it held a valid
 *    error), unless the bank holds an uncorrected one: then only OVER;
 *  - a UCNA error is logged, and MCG_STATUS becomes its (zero) value;
 *  - other uncorrected errors are dropped when MCG_CTL (if present) or the
 *    bank's MCi_CTL is not all ones; shut the vCPU down when CR4.MCE is
 *    clear or MCG_STATUS.MCIP set (the bank unchanged); else are logged
 *    (OVER if the bank held a valid error), MCG_STATUS becomes theirs, and
 *    the guest takes #MC.
 */
static long khv_mce_inject(struct khv_vcpu *vcpu, const struct kvm_x86_mce *mce)
{
	struct khv_msrs *m = &vcpu->arch.msr;
	unsigned int banks = m->mcg_cap & MCG_BANKCNT_MASK;
	u64 status = mce->status, *bank;
	int cr4_mce;

	if (mce->bank >= banks || !(status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &m->mce_banks[4 * array_index_nospec(mce->bank, banks)];

	if (!(status & MCI_STATUS_UC)) {
		if ((bank[1] & MCI_STATUS_VAL) && (bank[1] & MCI_STATUS_UC)) {
			bank[1] |= MCI_STATUS_OVER;
			return 0;
		}
		if (bank[1] & MCI_STATUS_VAL)
			status |= MCI_STATUS_OVER;
		khv_mce_log(bank, mce, status);
		return 0;
	}
	if (khv_mce_is_ucna(mce)) {
		khv_mce_log(bank, mce, status);
		m->mcg_status = mce->mcg_status;
		return 0;
	}
	if ((m->mcg_cap & MCG_CTL_P) && m->mcg_ctl != ~0ULL)
		return 0;
	if (bank[0] != ~0ULL)
		return 0;
	if (m->mcg_status & MCG_STATUS_MCIP) {
		vcpu->arch.ev.triple_fault = true;
		return 0;
	}
	cr4_mce = khv_mce_cr4_mce(vcpu);
	if (cr4_mce < 0)
		return cr4_mce;
	if (!cr4_mce) {
		vcpu->arch.ev.triple_fault = true;
		return 0;
	}
	if (bank[1] & MCI_STATUS_VAL)
		status |= MCI_STATUS_OVER;
	khv_mce_log(bank, mce, status);
	m->mcg_status = mce->mcg_status;
	khv_queue_exception(vcpu, MC_VECTOR, false, 0);
	return 0;
}

/* KVM_X86_SETUP_MCE and KVM_X86_SET_MCE, under vcpu->mutex. */
long khv_mce_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		   void __user *argp)
{
	switch (ioctl) {
	case KVM_X86_SETUP_MCE: {
		u64 cap;

		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return khv_mce_setup(vcpu, cap);
	}
	case KVM_X86_SET_MCE: {
		struct kvm_x86_mce mce;

		if (copy_from_user(&mce, argp, sizeof(mce)))
			return -EFAULT;
		return khv_mce_inject(vcpu, &mce);
	}
	default:
		return -EINVAL;
	}
}
