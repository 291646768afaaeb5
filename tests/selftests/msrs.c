// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSRs: KVM_GET_MSR_INDEX_LIST's E2BIG protocol; KVM_SET_MSRS/KVM_GET_MSRS
 * round trips, processed in order and stopping at the first MSR that does
 * not exist or refuses its value (the return value says how many were
 * done); a guest's WRMSR/RDMSR, and #GP for an MSR that does not exist.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_PAT			0x277
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_NONE		0x4b564d99	/* no such MSR */

static const struct kvm_msr_entry values[] = {
	{ .index = MSR_STAR, .data = 0x0023001000000000ULL },
	{ .index = MSR_LSTAR, .data = 0xffffffff81000000ULL },
	{ .index = MSR_CSTAR, .data = 0xffffffff81000040ULL },
	{ .index = MSR_SYSCALL_MASK, .data = 0x47700 },
	{ .index = MSR_KERNEL_GS_BASE, .data = 0x7f0012345000ULL },
	{ .index = MSR_SYSENTER_CS, .data = 0x10 },
	/* 32-bit values: AMD keeps only 32 bits of these two. */
	{ .index = MSR_SYSENTER_ESP, .data = 0x80001000 },
	{ .index = MSR_SYSENTER_EIP, .data = 0x81001000 },
	{ .index = MSR_PAT, .data = 0x0007010600070106ULL },
	{ .index = MSR_MTRR_DEF_TYPE, .data = 0xc06 },
};
#define NR_VALUES (sizeof(values) / sizeof(values[0]))

struct msrs { struct kvm_msrs h; struct kvm_msr_entry e[NR_VALUES + 2]; };

static long set1(int vcpu, uint32_t index, uint64_t data)
{
	struct msrs m = { .h.nmsrs = 1, .e[0] = { .index = index, .data = data } };

	return khv_ioctl_p(vcpu, KVM_SET_MSRS, &m);
}

/* Real mode: IVT[13] -> handler at 0x1800; write STAR, read it back, rdmsr a
 * missing MSR. */
static const uint8_t code[] = {
	0x66, 0xb9, 0x81, 0x00, 0x00, 0xc0,	/* mov $0xc0000081, %ecx */
	0x66, 0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov $0x12345678, %eax */
	0x66, 0xba, 0x00, 0x00, 0x23, 0x00,	/* mov $0x00230000, %edx */
	0x0f, 0x30,				/* wrmsr */
	0x66, 0x31, 0xc0,			/* xor %eax, %eax */
	0x66, 0x31, 0xd2,			/* xor %edx, %edx */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0xe7, 0x40,			/* out %eax, $0x40 */
	0x66, 0x89, 0xd0,			/* mov %edx, %eax */
	0x66, 0xe7, 0x41,			/* out %eax, $0x41 */
	0x66, 0xb9, 0x99, 0x4d, 0x56, 0x4b,	/* mov $MSR_NONE, %ecx */
	0x0f, 0x32,				/* rdmsr: #GP */
	0xf4,					/* hlt: not reached */
};
static const uint8_t gp_handler[] = {
	0xe6, 0x44,				/* out %al, $0x44 */
	0xf4,					/* hlt */
};

int main(void)
{
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + 1024 * sizeof(uint32_t));
	struct msrs m;
	struct khv_guest g;
	unsigned int i, same = 0;
	uint32_t v;
	long r;

	tap_plan(12);
	khv_guest_create(&g, code, sizeof(code));

	list->nmsrs = 0;
	EXPECT_EQ(khv_ioctl_p(g.dev, KVM_GET_MSR_INDEX_LIST, list), -E2BIG,
		  "KVM_GET_MSR_INDEX_LIST with nmsrs 0: E2BIG");
	tap_ok(list->nmsrs > 0 && list->nmsrs < 1024, "... and nmsrs says %u", list->nmsrs);
	EXPECT_EQ(khv_ioctl_p(g.dev, KVM_GET_MSR_INDEX_LIST, list), 0,
		  "KVM_GET_MSR_INDEX_LIST with room");

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = NR_VALUES;
	memcpy(m.e, values, sizeof(values));
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_MSRS, &m), NR_VALUES,
		  "KVM_SET_MSRS of %zu MSRs does all", NR_VALUES);
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = NR_VALUES;
	for (i = 0; i < NR_VALUES; i++)
		m.e[i].index = values[i].index;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_GET_MSRS, &m), NR_VALUES, "KVM_GET_MSRS does all");
	for (i = 0; i < NR_VALUES; i++) {
		if (m.e[i].data == values[i].data)
			same++;
		else
			tap_diag("MSR 0x%x: 0x%llx, set 0x%llx", values[i].index,
				 m.e[i].data, values[i].data);
	}
	tap_ok(same == NR_VALUES, "every value reads back (%u of %zu)", same, NR_VALUES);

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 3;
	m.e[0] = (struct kvm_msr_entry){ .index = MSR_STAR, .data = 1 };
	m.e[1] = (struct kvm_msr_entry){ .index = MSR_NONE };
	m.e[2] = (struct kvm_msr_entry){ .index = MSR_CSTAR, .data = 2 };
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_MSRS, &m), 1,
		  "KVM_SET_MSRS stops at an MSR that does not exist");
	EXPECT_EQ(set1(g.vcpu, MSR_LSTAR, 0x8000000000000000ULL), 0,
		  "a non-canonical LSTAR is refused");
	EXPECT_EQ(set1(g.vcpu, MSR_PAT, 0x0007040600070402ULL), 0,
		  "a PAT with a reserved memory type is refused");

	/* IVT[13] = 0000:1800 */
	memcpy(g.mem + 0x1800, gp_handler, sizeof(gp_handler));
	g.mem[13 * 4] = 0x00;
	g.mem[13 * 4 + 1] = 0x18;
	g.mem[13 * 4 + 2] = 0;
	g.mem[13 * 4 + 3] = 0;
	r = khv_guest_run(&g);
	memcpy(&v, (char *)g.run + g.run->io.data_offset, 4);
	tap_ok(r == 0 && g.run->io.port == 0x40 && v == 0x12345678,
	       "the guest's RDMSR reads back EAX of its WRMSR (0x%x)", v);
	r = khv_guest_run(&g);
	memcpy(&v, (char *)g.run + g.run->io.data_offset, 4);
	tap_ok(r == 0 && g.run->io.port == 0x41 && v == 0x230000,
	       "... and EDX (0x%x)", v);
	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_IO && g.run->io.port == 0x44,
	       "RDMSR of an MSR that does not exist: #GP in the guest (%s port 0x%x)",
	       khv_exit_name(g.run->exit_reason), g.run->io.port);
	khv_guest_destroy(&g);
	free(list);
	return tap_finish();
}
