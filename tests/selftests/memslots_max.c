// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_CAP_NR_MEMSLOTS slots at once, and one more is refused; all of them
 * deleted again.
 */
#include <linux/kvm.h>
#include <time.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define PG 4096UL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	int dev = khv_open_dev(), vm;
	char *mem = khv_alloc(PG);
	long max, i, r = 0;
	double t;

	tap_plan(4);
	vm = khv_create_vm(dev);
	max = khv_ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	t = now();
	for (i = 0; i < max; i++) {
		r = khv_set_mem(vm, i, 0, i * PG, PG, mem);
		if (r)
			break;
	}
	tap_diag("%ld slots created in %.2f s", i, now() - t);
	EXPECT_EQ(i, max, "all %ld slots created (last error %ld)", max, r);
	EXPECT_EQ(khv_set_mem(vm, max, 0, max * PG, PG, mem), -EINVAL,
		  "slot %ld: EINVAL", max);
	EXPECT_EQ(khv_set_mem(vm, max - 1, 0, 0, PG, mem), -EEXIST,
		  "moving the last slot onto the first: EEXIST");
	t = now();
	for (i = 0; i < max; i++) {
		r = khv_set_mem(vm, i, 0, i * PG, 0, mem);
		if (r)
			break;
	}
	tap_diag("%ld slots deleted in %.2f s", i, now() - t);
	EXPECT_EQ(i, max, "all slots deleted (last error %ld)", r);
	close(vm);
	close(dev);
	return tap_finish();
}
