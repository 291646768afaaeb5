// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_CHECK_EXTENSION: khv reports exactly the capabilities whose code is
 * complete (the table below, kept in step with Documentation/api.md), and 0
 * for every other number. Unknown numbers give 0 on stock KVM too.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

struct cap { long cap; long value; };

/* What khv advertises; value -1 means "any non-zero". */
static const struct cap khv_caps[] = {
	{ KVM_CAP_USER_MEMORY, 1 },
	{ KVM_CAP_DESTROY_MEMORY_REGION_WORKS, 1 },
	{ KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, 1 },
	{ KVM_CAP_CHECK_EXTENSION_VM, 1 },
	{ KVM_CAP_NR_VCPUS, -1 },
	{ KVM_CAP_MAX_VCPUS, 1024 },
	{ KVM_CAP_MAX_VCPU_ID, 4096 },
	{ KVM_CAP_NR_MEMSLOTS, 32764 },
	{ KVM_CAP_MCE, 32 },
	{ KVM_CAP_EXT_CPUID, 1 },
	{ KVM_CAP_IMMEDIATE_EXIT, 1 },
	{ KVM_CAP_SET_TSS_ADDR, 1 },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, 1 },
	{ KVM_CAP_MP_STATE, 1 },
	{ KVM_CAP_VCPU_EVENTS, 1 },
	{ KVM_CAP_INTR_SHADOW, 1 },
	{ KVM_CAP_USER_NMI, 1 },
	{ KVM_CAP_DEBUGREGS, 1 },
	{ KVM_CAP_XSAVE, 1 },
	{ KVM_CAP_XCRS, 1 },
	{ KVM_CAP_SYNC_REGS, 7 },
	{ KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 3 },
};

#define CAP_SCAN_MAX	512

int main(void)
{
	int fd = khv_open_dev();
	int bad = 0, n = 0;

	tap_plan(khv_is_oracle() ? 2 : 3);
	EXPECT_EQ(khv_ioctl(fd, KVM_CHECK_EXTENSION, 100000), 0,
		  "an unknown capability number gives 0");
	EXPECT_EQ(khv_ioctl(fd, KVM_CHECK_EXTENSION, (unsigned long)-1L), 0,
		  "capability -1 gives 0");
	if (khv_is_oracle())
		return tap_finish();

	for (long c = 0; c < CAP_SCAN_MAX; c++) {
		long want = 0, got = khv_ioctl(fd, KVM_CHECK_EXTENSION, c);

		for (unsigned int i = 0; i < sizeof(khv_caps) / sizeof(khv_caps[0]); i++)
			if (khv_caps[i].cap == c)
				want = khv_caps[i].value;
		if (got != want && !(want == -1 && got > 0)) {
			tap_diag("capability %ld: got %ld, want %ld", c, got, want);
			bad++;
		}
		n++;
	}
	tap_ok(!bad, "capabilities 0..%d are exactly khv's advertised set (%d checked)",
	       CAP_SCAN_MAX - 1, n);
	close(fd);
	return tap_finish();
}
