// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_CREATE_VM: machine type 0 only; many VMs at once; KVM_CHECK_EXTENSION
 * on a VM fd agrees with the device for the VM-independent capabilities;
 * unknown VM ioctls give ENOTTY.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define NR_VMS 64

int main(void)
{
	static const long caps[] = {
		KVM_CAP_NR_MEMSLOTS, KVM_CAP_MAX_VCPUS, KVM_CAP_MAX_VCPU_ID,
		KVM_CAP_NR_VCPUS, KVM_CAP_USER_MEMORY,
		KVM_CAP_CHECK_EXTENSION_VM,
	};
	int dev = khv_open_dev(), vms[NR_VMS], vm, ok = 1, n;

	tap_plan(7);
	EXPECT_EQ(khv_ioctl(dev, KVM_CREATE_VM, 1), -EINVAL,
		  "KVM_CREATE_VM type 1: EINVAL");
	EXPECT_EQ(khv_ioctl(dev, KVM_CREATE_VM, ~0UL), -EINVAL,
		  "KVM_CREATE_VM type ~0: EINVAL");
	vm = khv_ioctl(dev, KVM_CREATE_VM, 0);
	tap_ok(vm >= 0, "KVM_CREATE_VM type 0 gives an fd (%d)", vm);
	if (vm < 0)
		tap_bail("no VM");

	for (unsigned int i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		long d = khv_ioctl(dev, KVM_CHECK_EXTENSION, caps[i]);
		long v = khv_ioctl(vm, KVM_CHECK_EXTENSION, caps[i]);

		if (d != v) {
			tap_diag("capability %ld: device %ld, VM %ld", caps[i], d, v);
			ok = 0;
		}
	}
	tap_ok(ok, "KVM_CHECK_EXTENSION on the VM fd agrees with the device");
	EXPECT_EQ(khv_ioctl(vm, _IO(KVMIO, 0xfe), 0), -ENOTTY,
		  "an unknown VM ioctl: ENOTTY");
	close(vm);

	for (n = 0; n < NR_VMS; n++) {
		vms[n] = khv_ioctl(dev, KVM_CREATE_VM, 0);
		if (vms[n] < 0)
			break;
	}
	tap_ok(n == NR_VMS, "%d VMs exist at once (%d created)", NR_VMS, n);
	for (int i = 0; i < n; i++)
		close(vms[i]);
	vm = khv_ioctl(dev, KVM_CREATE_VM, 0);
	tap_ok(vm >= 0, "a VM can be created after all were closed");
	close(vm);
	close(dev);
	return tap_finish();
}
