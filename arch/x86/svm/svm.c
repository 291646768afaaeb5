// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv-svm: the AMD-V backend.
 *
 * Module init probes the hardware and registers with the core only if the
 * CPU can run khv's guests: an AMD (or Hygon) CPU with SVM, SVM not disabled
 * by firmware (VM_CR.SVMDIS), and nested paging. Anything missing fails the
 * load with -ENODEV and one line saying what is missing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/svm.h>

#include <khv/vendor.h>

static int khv_svm_probe(void)
{
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_info("AMD-V unavailable: not an AMD CPU\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_info("AMD-V unavailable: CPUID has no SVM\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) ||
	    (vm_cr & (1ULL << SVM_VM_CR_SVM_DISABLE))) {
		pr_info("AMD-V unavailable: disabled by firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_info("AMD-V unavailable: no nested paging (NPT)\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * Per CPU: the host save area VMRUN uses, allocated at module load for every
 * possible CPU, and the VM_HSAVE_PA value found when SVM was switched on.
 */
static DEFINE_PER_CPU(struct page *, khv_svm_hsave);
static DEFINE_PER_CPU(u64, khv_svm_prev_hsave_pa);

/* hardware_enable: see struct khv_vendor_ops; interrupts are off. */
static int khv_svm_hardware_enable(void)
{
	struct page *hsave = __this_cpu_read(khv_svm_hsave);
	u64 efer, prev;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	if (WARN_ON_ONCE(!hsave))
		return -ENOMEM;
	rdmsrl(MSR_VM_HSAVE_PA, prev);
	__this_cpu_write(khv_svm_prev_hsave_pa, prev);
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(hsave));
	return 0;
}

static void khv_svm_hardware_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, __this_cpu_read(khv_svm_prev_hsave_pa));
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static void khv_svm_free_percpu(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(khv_svm_hsave, cpu))
			__free_page(per_cpu(khv_svm_hsave, cpu));
		per_cpu(khv_svm_hsave, cpu) = NULL;
	}
}

static int khv_svm_alloc_percpu(void)
{
	struct page *page;
	int cpu;

	for_each_possible_cpu(cpu) {
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			khv_svm_free_percpu();
			return -ENOMEM;
		}
		per_cpu(khv_svm_hsave, cpu) = page;
	}
	return 0;
}

static const struct khv_vendor_ops khv_svm_ops = {
	.name			= "svm",
	.owner			= THIS_MODULE,
	.hardware_enable	= khv_svm_hardware_enable,
	.hardware_disable	= khv_svm_hardware_disable,
};

static int __init khv_svm_init(void)
{
	int r;

	r = khv_svm_probe();
	if (r)
		return r;
	r = khv_svm_alloc_percpu();
	if (r)
		return r;
	r = khv_register_vendor(&khv_svm_ops);
	if (r)
		khv_svm_free_percpu();
	return r;
}

static void __exit khv_svm_exit(void)
{
	khv_unregister_vendor(&khv_svm_ops);
	khv_svm_free_percpu();
}

module_init(khv_svm_init);
module_exit(khv_svm_exit);

MODULE_DESCRIPTION("khv: AMD-V (SVM + NPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
