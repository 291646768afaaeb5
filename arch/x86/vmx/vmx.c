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

#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <asm/asm.h>
#include <asm/reboot.h>
#include <asm/tlbflush.h>
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

/*
 * Per CPU: the VMXON region (allocated at module load for every possible
 * CPU) and whether this CPU is in VMX operation because of khv.
 */
static DEFINE_PER_CPU(struct page *, khv_vmxon_region);
static DEFINE_PER_CPU(bool, khv_vmx_on);

static int khv_vmxon(u64 pa)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m" (pa) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static void khv_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	return;
fault:
	/* Not in VMX operation: nothing to leave. */
	return;
}

/* hardware_enable: see struct khv_vendor_ops; interrupts are off. */
static int khv_vmx_hardware_enable(void)
{
	struct page *region = __this_cpu_read(khv_vmxon_region);
	u64 feat;
	int r;

	/* Someone else's VMXON (or a CR4 we did not expect): hands off. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	if (WARN_ON_ONCE(!region))
		return -ENOMEM;
	/* Firmware may lock the MSR differently on each CPU. */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EIO;

	cr4_set_bits(X86_CR4_VMXE);
	r = khv_vmxon(page_to_phys(region));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		return r;
	}
	__this_cpu_write(khv_vmx_on, true);
	return 0;
}

static void khv_vmx_hardware_disable(void)
{
	if (!__this_cpu_read(khv_vmx_on))
		return;
	khv_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	__this_cpu_write(khv_vmx_on, false);
}

/*
 * Crash and emergency reboot: leave VMX operation, which blocks INIT, so the
 * next kernel can start the CPUs. Runs in NMI or shutdown context.
 */
static void khv_vmx_emergency_disable(void)
{
	if (__this_cpu_read(khv_vmx_on)) {
		khv_vmxoff();
		cr4_clear_bits(X86_CR4_VMXE);
		__this_cpu_write(khv_vmx_on, false);
	}
}

static void khv_vmx_free_percpu(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(khv_vmxon_region, cpu))
			__free_page(per_cpu(khv_vmxon_region, cpu));
		per_cpu(khv_vmxon_region, cpu) = NULL;
	}
}

static int khv_vmx_alloc_percpu(void)
{
	struct page *page;
	u64 basic;
	int cpu;

	/* The region starts with the VMCS revision identifier (bits 30:0). */
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	for_each_possible_cpu(cpu) {
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			khv_vmx_free_percpu();
			return -ENOMEM;
		}
		*(u32 *)page_address(page) = (u32)basic & 0x7fffffff;
		per_cpu(khv_vmxon_region, cpu) = page;
	}
	return 0;
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

	int r;

	if (missing) {
		pr_info("VT-x unavailable: %s\n", missing);
		return -ENODEV;
	}
	r = khv_vmx_alloc_percpu();
	if (r)
		return r;
	cpu_emergency_register_virt_callback(khv_vmx_emergency_disable);
	r = khv_register_vendor(&khv_vmx_ops);
	if (r) {
		cpu_emergency_unregister_virt_callback(khv_vmx_emergency_disable);
		khv_vmx_free_percpu();
	}
	return r;
}

static void __exit khv_vmx_exit(void)
{
	khv_unregister_vendor(&khv_vmx_ops);
	cpu_emergency_unregister_virt_callback(khv_vmx_emergency_disable);
	khv_vmx_free_percpu();
}

module_init(khv_vmx_init);
module_exit(khv_vmx_exit);

MODULE_DESCRIPTION("khv: Intel VT-x (VMX + EPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
