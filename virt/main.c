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
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/string.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/version.h>

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
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_INTR_SHADOW:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
		return 1;
	case KVM_CAP_SYNC_REGS:
		return KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS |
		       KVM_SYNC_X86_EVENTS;
	case KVM_CAP_NR_VCPUS:
		return min_t(long, num_online_cpus(), KHV_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return KHV_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KHV_MAX_VCPU_IDS;
	case KVM_CAP_NR_MEMSLOTS:
		return KHV_USER_MEM_SLOTS;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
		       KVM_DIRTY_LOG_INITIALLY_SET;
	case KVM_CAP_MCE:
		return khv_mce_banks_supported();
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
	case KVM_X86_GET_MCE_CAP_SUPPORTED:
		return khv_mce_cap_supported((void __user *)arg);
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

/*
 * The opt-in /dev/kvm alias (kvm_alias=1), for VMMs that hard-code
 * /dev/kvm: a second misc device with kvm.ko's own name and minor
 * (KVM_MINOR, 232) and khv's fops. kvm.ko has precedence. Its vendor module
 * (kvm-amd, kvm-intel) registers minor 232 from its init and would fail to
 * load if khv held it, so khv gives the alias up as soon as kvm, kvm_amd or
 * kvm_intel starts loading (MODULE_STATE_COMING, before their init runs),
 * and tries to take it back whenever one of them is done loading or has
 * gone; misc_register() says -EBUSY while KVM holds the minor, which keeps
 * khv off it. Files opened through the alias stay khv's. Documented in
 * Documentation/packaging.md.
 *
 * khv_alias_lock protects the three variables below; it nests inside
 * khv_lock and outside misc_register()'s lock, and the module notifier
 * takes it alone.
 */
static bool kvm_alias;
module_param(kvm_alias, bool, 0444);
MODULE_PARM_DESC(kvm_alias,
		 "Also answer on /dev/kvm (misc minor 232) while no kvm-amd/kvm-intel is loaded; khv gives it up when one loads (default: off)");

static DEFINE_MUTEX(khv_alias_lock);
static bool khv_alias_backend;		/* a backend is registered */
static bool khv_alias_registered;	/* khv_kvm_dev is registered */
static unsigned long khv_kvm_coming;	/* bits of khv_kvm_modules loading */

static const char * const khv_kvm_modules[] = { "kvm", "kvm_amd", "kvm_intel" };

static struct miscdevice khv_kvm_dev = {
	.minor	= KVM_MINOR,
	.name	= "kvm",
	.fops	= &khv_dev_fops,
	.mode	= 0660,
};

/* Register or remove the alias to match the state. khv_alias_lock held. */
static void khv_kvm_alias_update(void)
{
	bool want = kvm_alias && khv_alias_backend && !khv_kvm_coming;
	int r;

	lockdep_assert_held(&khv_alias_lock);
	if (want == khv_alias_registered)
		return;
	if (!want) {
		misc_deregister(&khv_kvm_dev);
		khv_alias_registered = false;
		pr_info("/dev/kvm alias removed\n");
		return;
	}
	r = misc_register(&khv_kvm_dev);
	if (!r) {
		khv_alias_registered = true;
		pr_info("/dev/kvm is an alias of /dev/khv\n");
	} else if (r != -EBUSY) {
		pr_warn("cannot register the /dev/kvm alias: %d\n", r);
	}
}

static void khv_kvm_alias_set_backend(bool registered)
{
	mutex_lock(&khv_alias_lock);
	khv_alias_backend = registered;
	khv_kvm_alias_update();
	mutex_unlock(&khv_alias_lock);
}

static int khv_module_notify(struct notifier_block *nb, unsigned long state,
			     void *data)
{
	struct module *mod = data;
	int i = match_string(khv_kvm_modules, ARRAY_SIZE(khv_kvm_modules),
			     mod->name);

	if (i < 0)
		return NOTIFY_DONE;
	mutex_lock(&khv_alias_lock);
	if (state == MODULE_STATE_COMING)
		__set_bit(i, &khv_kvm_coming);
	else	/* LIVE, or GOING after a failed init or an unload */
		__clear_bit(i, &khv_kvm_coming);
	khv_kvm_alias_update();
	mutex_unlock(&khv_alias_lock);
	return NOTIFY_OK;
}

static struct notifier_block khv_module_nb = {
	.notifier_call = khv_module_notify,
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
			 !ops->s2_format ||
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
	khv_kvm_alias_set_backend(true);
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
		khv_kvm_alias_set_backend(false);
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
	if (kvm_alias) {
		r = register_module_notifier(&khv_module_nb);
		if (r) {
			khv_hw_exit();
			return r;
		}
	}
	/* vCPU threads follow their CPU through preempt notifiers. */
	preempt_notifier_inc();
	return 0;
}

static void __exit khv_exit(void)
{
	preempt_notifier_dec();
	if (kvm_alias)
		unregister_module_notifier(&khv_module_nb);
	khv_hw_exit();
}

module_init(khv_init);
module_exit(khv_exit);

MODULE_DESCRIPTION("khv: hypervisor core with the KVM ioctl ABI");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(KHV_VERSION);
