// SPDX-License-Identifier: GPL-2.0-only
/*
 * A real-mode guest doing port I/O of each size, CPUID from the table set
 * with KVM_SET_CPUID2, and HLT: each exit reaches user space with KVM's
 * layout, IN data given back lands in the guest's register, and RIP
 * advances past each instruction.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/khv_test.h"

static const uint8_t code[] = {
	0xb8, 0x34, 0x12,		/* mov $0x1234, %ax */
	0xe7, 0x10,			/* out %ax, $0x10 */
	0xe4, 0x11,			/* in $0x11, %al */
	0xe6, 0x12,			/* out %al, $0x12 */
	0x66, 0xb8, 0x00, 0x00, 0x00, 0x00, /* mov $0, %eax */
	0x66, 0x31, 0xc9,		/* xor %ecx, %ecx */
	0x0f, 0xa2,			/* cpuid */
	0x66, 0xe7, 0x13,		/* out %eax, $0x13 */
	0x66, 0x89, 0xd8,		/* mov %ebx, %eax */
	0x66, 0xe7, 0x14,		/* out %eax, $0x14 */
	0xba, 0x15, 0x00,		/* mov $0x15, %dx */
	0x66, 0xed,			/* in (%dx), %eax */
	0xf4,				/* hlt */
};

static uint32_t pio_u32(struct khv_guest *g)
{
	uint32_t v = 0;

	memcpy(&v, (char *)g->run + g->run->io.data_offset, g->run->io.size);
	return v;
}

static bool expect_io(struct khv_guest *g, int dir, int size, int port)
{
	long r = khv_guest_run(g);
	struct kvm_run *run = g->run;

	if (r || run->exit_reason != KVM_EXIT_IO || run->io.direction != dir ||
	    run->io.size != size || run->io.port != port || run->io.count != 1) {
		tap_diag("KVM_RUN %ld exit %s dir %d size %d port 0x%x count %u",
			 r, khv_exit_name(run->exit_reason), run->io.direction,
			 run->io.size, run->io.port, run->io.count);
		return false;
	}
	return true;
}

int main(void)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + sizeof(struct kvm_cpuid_entry2));
	struct khv_guest g;
	struct kvm_regs regs;
	long r;

	tap_plan(9);
	khv_guest_create(&g, code, sizeof(code));
	cpuid->nent = 1;
	cpuid->entries[0] = (struct kvm_cpuid_entry2) {
		.function = 0, .eax = 0x42, .ebx = 0x756e6547,
	};
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_CPUID2, cpuid), 0, "KVM_SET_CPUID2");

	tap_ok(expect_io(&g, KVM_EXIT_IO_OUT, 2, 0x10) && pio_u32(&g) == 0x1234,
	       "out %%ax, $0x10 exits with 0x1234");
	tap_ok(expect_io(&g, KVM_EXIT_IO_IN, 1, 0x11), "in $0x11, %%al exits");
	*((uint8_t *)g.run + g.run->io.data_offset) = 0x5a;
	tap_ok(expect_io(&g, KVM_EXIT_IO_OUT, 1, 0x12) && pio_u32(&g) == 0x5a,
	       "the byte given to IN comes back out (0x%x)", pio_u32(&g));
	tap_ok(expect_io(&g, KVM_EXIT_IO_OUT, 4, 0x13) && pio_u32(&g) == 0x42,
	       "CPUID leaf 0 EAX from the table (0x%x)", pio_u32(&g));
	tap_ok(expect_io(&g, KVM_EXIT_IO_OUT, 4, 0x14) && pio_u32(&g) == 0x756e6547,
	       "CPUID leaf 0 EBX from the table (0x%x)", pio_u32(&g));
	tap_ok(expect_io(&g, KVM_EXIT_IO_IN, 4, 0x15), "in (%%dx), %%eax exits");
	memcpy((char *)g.run + g.run->io.data_offset, "\x78\x56\x34\x12", 4);
	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_HLT, "HLT exits (%s)",
	       khv_exit_name(g.run->exit_reason));
	khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
	tap_ok(regs.rip == KHV_GUEST_CODE + sizeof(code) &&
	       (uint32_t)regs.rax == 0x12345678,
	       "RIP is past HLT (0x%llx), EAX holds the IN data (0x%llx)",
	       regs.rip, regs.rax);
	khv_guest_destroy(&g);
	free(cpuid);
	return tap_finish();
}
