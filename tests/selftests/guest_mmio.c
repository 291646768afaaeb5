// SPDX-License-Identifier: GPL-2.0-only
/*
 * MMIO: a real-mode guest whose DS and ES point above its RAM writes and
 * reads there with mov (both widths, moffs and modrm forms), movzx, and
 * rep stos; each access reaches user space as KVM_EXIT_MMIO with KVM's
 * layout, and read data given back lands where the instruction says.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define MMIO_BASE 0x100000	/* DS and ES base: just past the 1 MiB of RAM */

static const uint8_t code[] = {
	0xb8, 0x34, 0x12,		/* mov $0x1234, %ax */
	0xa3, 0x10, 0x00,		/* mov %ax, (0x10) */
	0xc6, 0x06, 0x20, 0x00, 0x5a,	/* movb $0x5a, (0x20) */
	0x8b, 0x1e, 0x30, 0x00,		/* mov (0x30), %bx */
	0x0f, 0xb6, 0x0e, 0x40, 0x00,	/* movzbw (0x40), %cx */
	0xb0, 0x77,			/* mov $0x77, %al */
	0xbf, 0x50, 0x00,		/* mov $0x50, %di */
	0x51,				/* push %cx */
	0xb9, 0x03, 0x00,		/* mov $3, %cx */
	0xf3, 0xaa,			/* rep stosb */
	0x59,				/* pop %cx */
	0xf4,				/* hlt */
};

struct access { uint64_t addr; uint32_t len; int write; uint64_t data; };

static const struct access want[] = {
	{ MMIO_BASE + 0x10, 2, 1, 0x1234 },
	{ MMIO_BASE + 0x20, 1, 1, 0x5a },
	{ MMIO_BASE + 0x30, 2, 0, 0xbeef },
	{ MMIO_BASE + 0x40, 1, 0, 0x80 },
	{ MMIO_BASE + 0x50, 1, 1, 0x77 },
	{ MMIO_BASE + 0x51, 1, 1, 0x77 },
	{ MMIO_BASE + 0x52, 1, 1, 0x77 },
};
#define NR_WANT (sizeof(want) / sizeof(want[0]))

int main(void)
{
	struct khv_guest g;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	unsigned int n = 0, bad = 0;
	long r;

	tap_plan(5);
	khv_guest_create(&g, code, sizeof(code));
	khv_ioctl_p(g.vcpu, KVM_GET_SREGS, &sregs);
	sregs.ds.base = MMIO_BASE;
	sregs.es.base = MMIO_BASE;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_SREGS, &sregs), 0,
		  "DS and ES based at 1 MiB");

	for (;;) {
		uint64_t data = 0;

		r = khv_guest_run(&g);
		if (r || g.run->exit_reason != KVM_EXIT_MMIO)
			break;
		memcpy(&data, g.run->mmio.data, g.run->mmio.len <= 8 ? g.run->mmio.len : 8);
		if (n < NR_WANT) {
			const struct access *w = &want[n];

			if (g.run->mmio.phys_addr != w->addr || g.run->mmio.len != w->len ||
			    g.run->mmio.is_write != w->write || (w->write && data != w->data)) {
				tap_diag("access %u: addr 0x%llx len %u write %d data 0x%llx",
					 n, g.run->mmio.phys_addr, g.run->mmio.len,
					 g.run->mmio.is_write, (unsigned long long)data);
				bad++;
			}
			if (!w->write)
				memcpy(g.run->mmio.data, &w->data, w->len);
		}
		n++;
	}
	tap_ok(n == NR_WANT && !bad, "%u MMIO exits with the expected address, size, "
	       "direction and data (%u wrong)", n, bad);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_HLT, "then HLT (KVM_RUN %ld, %s)",
	       r, khv_exit_name(g.run->exit_reason));
	khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
	tap_ok((uint16_t)regs.rbx == 0xbeef && (uint16_t)regs.rcx == 0x80,
	       "read data landed: bx 0x%llx, cx (movzx) 0x%llx", regs.rbx, regs.rcx);
	tap_ok(regs.rip == KHV_GUEST_CODE + sizeof(code) && (uint16_t)regs.rdi == 0x53,
	       "rep stos stepped DI to 0x%llx, RIP past HLT (0x%llx)", regs.rdi, regs.rip);
	khv_guest_destroy(&g);
	return tap_finish();
}
