// SPDX-License-Identifier: GPL-2.0-only
/*
 * The system ioctls every VMM issues first: KVM_GET_API_VERSION,
 * KVM_GET_VCPU_MMAP_SIZE, and how the device answers what it does not know.
 * KVM conformance: the same answers from stock KVM.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

int main(void)
{
	int fd = khv_open_dev();
	long sz;

	tap_plan(6);
	EXPECT_EQ(khv_ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION,
		  "KVM_GET_API_VERSION is %d", KVM_API_VERSION);
	EXPECT_EQ(khv_ioctl(fd, KVM_GET_API_VERSION, 1), -EINVAL,
		  "KVM_GET_API_VERSION with a non-zero argument: EINVAL");
	sz = khv_ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	tap_ok(sz >= getpagesize() && sz % getpagesize() == 0,
	       "KVM_GET_VCPU_MMAP_SIZE is whole pages (%ld)", sz);
	EXPECT_EQ(khv_ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 1), -EINVAL,
		  "KVM_GET_VCPU_MMAP_SIZE with a non-zero argument: EINVAL");
	/* _IO(KVMIO, 0xff) is no KVM ioctl, and neither is a foreign type. */
	EXPECT_EQ(khv_ioctl(fd, _IO(KVMIO, 0xff), 0), -EINVAL,
		  "an unknown ioctl number: EINVAL");
	EXPECT_EQ(khv_ioctl(fd, _IO('T', 0x01), 0), -EINVAL,
		  "a foreign ioctl type: EINVAL");
	close(fd);
	return tap_finish();
}
