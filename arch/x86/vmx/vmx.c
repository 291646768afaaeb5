// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv-vmx: the Intel VT-x backend.
 *
 * Module init probes the hardware and registers with the core only if the
 * CPU can run khv's guests: an Intel CPU with VMX, IA32_FEATURE_CONTROL
 * locked with VMXON outside SMX allowed, and secondary controls offering EPT
 * (4-level walk, write-back paging structures, INVEPT), VPID (INVVPID) and
 * unrestricted guest. Anything missing fails the load with -ENODEV and one
 * line saying what is missing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/vmx.h>

#include <khv/vendor.h>

/* The allowed-1 settings of a VMX capability MSR are its high 32 bits. */
static bool khv_vmx_allowed1(u32 msr, u32 bits)
{
	u64 v;

	if (rdmsrl_safe(msr, &v))
		return false;
	return ((v >> 32) & bits) == bits;
}

static const char *khv_vmx_missing(void)
{
	u64 feat, ept_vpid;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL)
		return "not an Intel CPU";
	if (!boot_cpu_has(X86_FEATURE_VMX))
		return "CPUID has no VMX (or firmware disabled it)";
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED))
		return "IA32_FEATURE_CONTROL is not locked";
	if (!(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return "IA32_FEATURE_CONTROL does not enable VMXON outside SMX";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS,
			      CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return "no secondary processor-based controls";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_ENABLE_EPT))
		return "no EPT";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_ENABLE_VPID))
		return "no VPID";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_UNRESTRICTED_GUEST))
		return "no unrestricted guest";
	if (rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_vpid))
		return "no IA32_VMX_EPT_VPID_CAP";
	if (!(ept_vpid & VMX_EPT_PAGE_WALK_4_BIT))
		return "no 4-level EPT";
	if (!(ept_vpid & VMX_EPTP_WB_BIT))
		return "EPT paging structures cannot be write-back";
	if (!(ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(ept_vpid & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT)))
		return "no INVEPT";
	if (!((ept_vpid >> 32) & VMX_VPID_INVVPID_BIT))
		return "no INVVPID";
	return NULL;
}

static int khv_vmx_hardware_enable(void)
{
	return -EOPNOTSUPP;
}

static void khv_vmx_hardware_disable(void)
{
}

static const struct khv_vendor_ops khv_vmx_ops = {
	.name			= "vmx",
	.owner			= THIS_MODULE,
	.hardware_enable	= khv_vmx_hardware_enable,
	.hardware_disable	= khv_vmx_hardware_disable,
};

static int __init khv_vmx_init(void)
{
	const char *missing = khv_vmx_missing();

	if (missing) {
		pr_info("VT-x unavailable: %s\n", missing);
		return -ENODEV;
	}
	return khv_register_vendor(&khv_vmx_ops);
}

static void __exit khv_vmx_exit(void)
{
	khv_unregister_vendor(&khv_vmx_ops);
}

module_init(khv_vmx_init);
module_exit(khv_vmx_exit);

MODULE_DESCRIPTION("khv: Intel VT-x (VMX + EPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
