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

static int khv_svm_hardware_enable(void)
{
	return -EOPNOTSUPP;
}

static void khv_svm_hardware_disable(void)
{
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
	return khv_register_vendor(&khv_svm_ops);
}

static void __exit khv_svm_exit(void)
{
	khv_unregister_vendor(&khv_svm_ops);
}

module_init(khv_svm_init);
module_exit(khv_svm_exit);

MODULE_DESCRIPTION("khv: AMD-V (SVM + NPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
