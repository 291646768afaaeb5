// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv core module: the /dev/khv device, system ioctls and backend
 * registration.
 *
 * /dev/khv speaks the ioctl ABI of <linux/kvm.h>. The device exists only
 * while a hardware backend (khv-svm or khv-vmx) is registered, as /dev/kvm
 * exists only while kvm-amd or kvm-intel is loaded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/preempt.h>

#include <khv/khv.h>
#include <khv/vendor.h>

DEFINE_MUTEX(khv_lock);
const struct khv_vendor_ops *khv_vendor;

/*
 * KVM_CHECK_EXTENSION, on /dev/khv (vm == NULL) and on a VM fd. A capability
 * is reported here only once the code behind it fully works
 * (Documentation/api.md lists each one); everything else is 0, which is what
 * clients expect for "not supported".
 */
long khv_check_extension(struct khv_vm *vm, long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_CHECK_EXTENSION_VM:
		return 1;
	case KVM_CAP_NR_VCPUS:
		return min_t(long, num_online_cpus(), KHV_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return KHV_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KHV_MAX_VCPU_IDS;
	case KVM_CAP_NR_MEMSLOTS:
		return KHV_USER_MEM_SLOTS;
	default:
		return 0;
	}
}

static long khv_dev_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KHV_API_VERSION;
	case KVM_CREATE_VM:
		return khv_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return khv_check_extension(NULL, arg);
	case KVM_GET_SUPPORTED_CPUID:
		return khv_get_supported_cpuid((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return khv_msr_index_list((void __user *)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return KHV_VCPU_MMAP_PAGES * PAGE_SIZE;
	default:
		return -EINVAL;
	}
}

static const struct file_operations khv_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= khv_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice khv_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "khv",
	.fops	= &khv_dev_fops,
	.mode	= 0660,
};

/**
 * khv_register_vendor - make a hardware backend khv's, and expose /dev/khv
 * @ops: the backend's table; must stay valid until khv_unregister_vendor()
 *
 * Only one backend can be registered at a time: -EBUSY otherwise. Called from
 * the backend's module init, after its hardware probe succeeded.
 */
int khv_register_vendor(const struct khv_vendor_ops *ops)
{
	int r;

	if (WARN_ON_ONCE(!ops || !ops->name || !ops->owner ||
			 !ops->hardware_enable || !ops->hardware_disable ||
			 !ops->vcpu_load || !ops->vcpu_put || !ops->run ||
			 !ops->get_sregs || !ops->set_sregs ||
			 !ops->queue_exception || !ops->s2_format ||
			 (ops->vm_size && ops->vm_size < sizeof(struct khv_vm)) ||
			 (ops->vcpu_size && ops->vcpu_size < sizeof(struct khv_vcpu))))
		return -EINVAL;

	mutex_lock(&khv_lock);
	if (khv_vendor) {
		pr_err("backend %s refused: %s is already registered\n",
		       ops->name, khv_vendor->name);
		r = -EBUSY;
		goto out;
	}
	khv_vendor = ops;
	r = misc_register(&khv_dev);
	if (r) {
		pr_err("cannot register /dev/khv: %d\n", r);
		khv_vendor = NULL;
		goto out;
	}
	pr_info("backend %s registered\n", ops->name);
out:
	mutex_unlock(&khv_lock);
	return r;
}
EXPORT_SYMBOL_GPL(khv_register_vendor);

/**
 * khv_unregister_vendor - remove /dev/khv and forget the backend
 * @ops: the table given to khv_register_vendor()
 *
 * Called from the backend's module exit. No VM can exist then: each VM holds
 * a reference on the backend module.
 */
void khv_unregister_vendor(const struct khv_vendor_ops *ops)
{
	mutex_lock(&khv_lock);
	if (!WARN_ON_ONCE(khv_vendor != ops)) {
		misc_deregister(&khv_dev);
		khv_vendor = NULL;
	}
	mutex_unlock(&khv_lock);
}
EXPORT_SYMBOL_GPL(khv_unregister_vendor);

static int __init khv_init(void)
{
	int r = khv_hw_init();

	if (r)
		return r;
	/* vCPU threads follow their CPU through preempt notifiers. */
	preempt_notifier_inc();
	return 0;
}

static void __exit khv_exit(void)
{
	preempt_notifier_dec();
	khv_hw_exit();
}

module_init(khv_init);
module_exit(khv_exit);

MODULE_DESCRIPTION("khv: hypervisor core with the KVM ioctl ABI");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
