// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware virtualization (EFER.SVME / VMXON) is on, on every online CPU,
 * exactly while at least one VM exists.
 *
 * The first VM registers a dynamic CPU-hotplug state whose callbacks switch
 * the backend on and off on each CPU: registering runs the "online" callback
 * on every online CPU (and rolls back if one fails), CPUs that come online
 * later get it too, and removing the state with the last VM runs "offline"
 * everywhere. A reboot notifier switches everything off before the machine
 * restarts (VMX blocks INIT while on).
 *
 * khv_hw_users, khv_hw_state and khv_hw_ops are written under khv_lock.
 * khv_hw_enabled is per CPU, touched only on its CPU with interrupts off.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/percpu.h>
#include <linux/reboot.h>

#include <khv/khv.h>
#include <khv/vendor.h>

static int khv_hw_users;
static int khv_hw_state;
static const struct khv_vendor_ops *khv_hw_ops;
static DEFINE_PER_CPU(bool, khv_hw_enabled);
static bool khv_rebooting;

static void khv_hw_disable_this_cpu(void *unused)
{
	unsigned long flags;

	local_irq_save(flags);
	if (__this_cpu_read(khv_hw_enabled)) {
		khv_hw_ops->hardware_disable();
		__this_cpu_write(khv_hw_enabled, false);
	}
	local_irq_restore(flags);
}

static int khv_hw_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int r = 0;

	if (READ_ONCE(khv_rebooting))
		return -EBUSY;
	local_irq_save(flags);
	if (!__this_cpu_read(khv_hw_enabled)) {
		r = khv_hw_ops->hardware_enable();
		if (!r)
			__this_cpu_write(khv_hw_enabled, true);
	}
	local_irq_restore(flags);
	if (r == -EBUSY)
		pr_err("CPU %u: %s is already in use (another hypervisor?)\n",
		       cpu, khv_hw_ops->name);
	else if (r)
		pr_err("CPU %u: cannot enable %s: %d\n", cpu, khv_hw_ops->name, r);
	return r;
}

static int khv_hw_cpu_offline(unsigned int cpu)
{
	khv_hw_disable_this_cpu(NULL);
	return 0;
}

/**
 * khv_hw_get - a VM is being created: hardware virtualization must be on
 * @ops: the backend of the VM
 *
 * Returns 0, or -EBUSY if another hypervisor owns the hardware on some CPU
 * (nothing is left enabled then). Called with khv_lock held.
 */
int khv_hw_get(const struct khv_vendor_ops *ops)
{
	int r;

	lockdep_assert_held(&khv_lock);
	if (khv_hw_users++)
		return 0;
	if (READ_ONCE(khv_rebooting)) {
		khv_hw_users--;
		return -EBUSY;
	}
	khv_hw_ops = ops;
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "khv:online",
			      khv_hw_cpu_online, khv_hw_cpu_offline);
	if (r < 0) {
		khv_hw_users--;
		khv_hw_ops = NULL;
		return r;
	}
	khv_hw_state = r;
	return 0;
}

/* The last VM is gone: switch hardware virtualization off. khv_lock held. */
void khv_hw_put(void)
{
	lockdep_assert_held(&khv_lock);
	if (WARN_ON_ONCE(khv_hw_users <= 0) || --khv_hw_users)
		return;
	cpuhp_remove_state(khv_hw_state);
	khv_hw_state = 0;
	khv_hw_ops = NULL;
}

static int khv_hw_reboot(struct notifier_block *nb, unsigned long code,
			 void *unused)
{
	WRITE_ONCE(khv_rebooting, true);
	mutex_lock(&khv_lock);
	if (khv_hw_users)
		on_each_cpu(khv_hw_disable_this_cpu, NULL, 1);
	mutex_unlock(&khv_lock);
	return NOTIFY_OK;
}

static struct notifier_block khv_hw_reboot_nb = {
	.notifier_call = khv_hw_reboot,
};

int khv_hw_init(void)
{
	return register_reboot_notifier(&khv_hw_reboot_nb);
}

void khv_hw_exit(void)
{
	unregister_reboot_notifier(&khv_hw_reboot_nb);
}
