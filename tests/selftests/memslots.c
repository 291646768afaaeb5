// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SET_USER_MEMORY_REGION: create, join, move, flags, delete,
 * resize-by-delete, and every invalid request, with KVM's errno for each.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define PG		4096UL
#define RO		KVM_MEM_READONLY
#define DIRTY		KVM_MEM_LOG_DIRTY_PAGES

int main(void)
{
	int dev = khv_open_dev(), vm;
	char *mem = khv_alloc(64 * PG);
	long max_slots;

	tap_plan(30);
	vm = khv_create_vm(dev);
	max_slots = khv_ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	EXPECT_EQ(max_slots, 32764, "KVM_CAP_NR_MEMSLOTS is 32764");

	/* Creation, and what may change of a slot afterwards. */
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0, 4 * PG, mem), 0, "create slot 0 at 0");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0, 4 * PG, mem), 0,
		  "the same request again is a no-op");
	EXPECT_EQ(khv_set_mem(vm, 1, 0, 2 * PG, 4 * PG, mem + 8 * PG), -EEXIST,
		  "a slot overlapping slot 0: EEXIST");
	EXPECT_EQ(khv_set_mem(vm, 1, 0, 4 * PG, 4 * PG, mem + 8 * PG), 0,
		  "an adjacent slot 1 (joined regions)");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000, 4 * PG, mem), 0,
		  "move slot 0 to 1 MiB");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 6 * PG, 4 * PG, mem), -EEXIST,
		  "move slot 0 onto slot 1: EEXIST");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000 + 2 * PG, 4 * PG, mem), 0,
		  "move slot 0 over part of its own range");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000 + 2 * PG, 8 * PG, mem), -EINVAL,
		  "resize slot 0 in place: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000 + 2 * PG, 4 * PG, mem + PG), -EINVAL,
		  "change slot 0's user address: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 0, DIRTY, 0x100000 + 2 * PG, 4 * PG, mem), 0,
		  "turn dirty logging on for slot 0");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000 + 2 * PG, 4 * PG, mem), 0,
		  "turn dirty logging off again");
	EXPECT_EQ(khv_set_mem(vm, 0, RO, 0x100000 + 2 * PG, 4 * PG, mem), -EINVAL,
		  "make an existing slot read-only: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 2, RO | DIRTY, 0x200000, 4 * PG, mem + 16 * PG), 0,
		  "create a read-only slot with dirty logging");
	EXPECT_EQ(khv_set_mem(vm, 3, 0, 0x300000, 4 * PG, (void *)0x7f0000000000UL), 0,
		  "a slot whose user memory is not mapped is accepted");

	/* Invalid requests. */
	EXPECT_EQ(khv_set_mem(vm, 4, 1u << 2, 0x400000, PG, mem), -EINVAL,
		  "unknown flag: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 0x400000 + 1, PG, mem), -EINVAL,
		  "misaligned guest address: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 0x400000, PG + 1, mem), -EINVAL,
		  "misaligned size: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 0x400000, PG, mem + 1), -EINVAL,
		  "misaligned user address: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, max_slots, 0, 0x400000, PG, mem), -EINVAL,
		  "slot id KVM_CAP_NR_MEMSLOTS: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 0xffff, 0, 0x400000, PG, mem), -EINVAL,
		  "slot id 0xffff: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, ~0UL & ~(PG - 1), 2 * PG, mem), -EINVAL,
		  "guest range wrapping past 2^64: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 1ULL << 52, PG, mem), -EINVAL,
		  "guest address beyond MAXPHYADDR: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 0x400000, PG, (void *)0xffff888000000000UL), -EINVAL,
		  "kernel user address: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 4, 0, 0, 1ULL << 43, (void *)0x10000000UL), -EINVAL,
		  "2^31 pages, more than a slot can hold: EINVAL");

	/* Deletion. */
	EXPECT_EQ(khv_set_mem(vm, 5, 0, 0, 0, NULL), -EINVAL,
		  "delete a slot that does not exist: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0x100000 + 2 * PG, 0, mem), 0, "delete slot 0");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0, 0, mem), -EINVAL, "delete slot 0 again: EINVAL");
	EXPECT_EQ(khv_set_mem(vm, 1, 0, 0, 0, NULL), 0, "delete slot 1");
	EXPECT_EQ(khv_set_mem(vm, 1, 0, 4 * PG, 8 * PG, mem + 8 * PG), 0,
		  "recreate slot 1 bigger (resize by delete)");
	close(vm);
	close(dev);
	return tap_finish();
}
