// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_SUPPORTED_CPUID: the E2BIG protocol (too small a buffer is E2BIG,
 * a big enough one gets the table), the leaves every VMM needs, and the
 * table round-tripping through KVM_SET_CPUID2 / KVM_GET_CPUID2.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/khv_test.h"

static struct kvm_cpuid2 *alloc_cpuid(int n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	c->nent = n;
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

int main(void)
{
	int dev = khv_open_dev(), vm, vcpu;
	struct kvm_cpuid2 *c = alloc_cpuid(0), *back;
	const struct kvm_cpuid_entry2 *e0, *e1, *x0, *x1, *b0;
	long r;

	tap_plan(8);
	EXPECT_EQ(khv_ioctl_p(dev, KVM_GET_SUPPORTED_CPUID, c), -E2BIG, "nent 0: E2BIG");
	free(c);
	c = alloc_cpuid(1);
	EXPECT_EQ(khv_ioctl_p(dev, KVM_GET_SUPPORTED_CPUID, c), -E2BIG, "nent 1: E2BIG");
	free(c);
	c = alloc_cpuid(256);
	EXPECT_EQ(khv_ioctl_p(dev, KVM_GET_SUPPORTED_CPUID, c), 0, "nent 256: the table");
	tap_ok(c->nent > 4 && c->nent <= 256, "%u entries", c->nent);
	e0 = find(c, 0);
	e1 = find(c, 1);
	x0 = find(c, 0x80000000);
	x1 = find(c, 0x80000001);
	tap_ok(e0 && e0->eax >= 1 && e1 && (e1->edx & 1),
	       "leaf 0, leaf 1 with FPU");
	tap_ok(x0 && x0->eax >= 0x80000001 && x1 && (x1->edx & (1u << 29)),
	       "leaf 0x80000000, leaf 0x80000001 with long mode");

	vm = khv_create_vm(dev);
	vcpu = khv_create_vcpu(vm, 0);
	EXPECT_EQ(khv_ioctl_p(vcpu, KVM_SET_CPUID2, c), 0, "KVM_SET_CPUID2 takes the table");
	back = alloc_cpuid(256);
	r = khv_ioctl_p(vcpu, KVM_GET_CPUID2, back);
	b0 = find(back, 0);
	tap_ok(r == 0 && b0 && b0->eax == e0->eax && b0->ebx == e0->ebx,
	       "KVM_GET_CPUID2 gives the table back (%ld, %u entries)", r, back->nent);
	close(vcpu);
	close(vm);
	close(dev);
	free(c);
	free(back);
	return tap_finish();
}
