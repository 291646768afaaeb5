// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_CREATE_VCPU: KVM_CAP_MAX_VCPUS vCPUs and one more; ids below
 * KVM_CAP_MAX_VCPU_ID; duplicate ids; unknown vCPU ioctls.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/khv_test.h"

int main(void)
{
	int dev = khv_open_dev(), vm, *fds;
	long max, max_id, nr, i, r = 0;

	tap_plan(10);
	max = khv_ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	max_id = khv_ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	nr = khv_ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	tap_ok(max == 1024, "KVM_CAP_MAX_VCPUS is 1024 (%ld)", max);
	tap_ok(max_id >= max, "KVM_CAP_MAX_VCPU_ID %ld >= MAX_VCPUS", max_id);
	tap_ok(nr >= 1 && nr <= max, "KVM_CAP_NR_VCPUS %ld in 1..MAX_VCPUS", nr);

	khv_want_fds(max + 64);
	fds = calloc(max, sizeof(*fds));
	vm = khv_create_vm(dev);
	for (i = 0; i < max; i++) {
		r = khv_ioctl(vm, KVM_CREATE_VCPU, i);
		if (r < 0)
			break;
		fds[i] = r;
	}
	EXPECT_EQ(i, max, "%ld vCPUs created (last result %ld)", max, r);
	EXPECT_EQ(khv_ioctl(vm, KVM_CREATE_VCPU, max), -EINVAL,
		  "vCPU number %ld: EINVAL", max + 1);
	for (i = 0; i < max; i++)
		close(fds[i]);
	close(vm);

	vm = khv_create_vm(dev);
	r = khv_ioctl(vm, KVM_CREATE_VCPU, 0);
	tap_ok(r >= 0, "vCPU id 0");
	EXPECT_EQ(khv_ioctl(vm, KVM_CREATE_VCPU, 0), -EEXIST, "vCPU id 0 again: EEXIST");
	EXPECT_EQ(khv_ioctl(vm, KVM_CREATE_VCPU, max_id), -EINVAL,
		  "vCPU id KVM_CAP_MAX_VCPU_ID: EINVAL");
	r = khv_ioctl(vm, KVM_CREATE_VCPU, max_id - 1);
	tap_ok(r >= 0, "vCPU id KVM_CAP_MAX_VCPU_ID - 1");
	EXPECT_EQ(khv_ioctl(r, _IO(KVMIO, 0xfe), 0), -EINVAL,
		  "an unknown vCPU ioctl: EINVAL");
	close(vm);
	close(dev);
	free(fds);
	return tap_finish();
}
