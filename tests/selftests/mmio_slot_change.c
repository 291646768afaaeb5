// SPDX-License-Identifier: GPL-2.0-only
/*
 * An MMIO read goes to user space; before completing it, the VMM adds a
 * memslot over that very address. The next KVM_RUN must finish the read
 * with the data user space supplied (as stock KVM does), not redo it
 * against the new RAM. khv once re-emulated the instruction and read the
 * new slot instead.
 */
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/khv_test.h"

/* Real mode: FS = 0xffff, so fs:0x10 is guest-physical 0x100000. */
static const uint8_t code[] = {
	0xb8, 0xff, 0xff,		/* mov $0xffff, %ax */
	0x8e, 0xe0,			/* mov %ax, %fs */
	0x64, 0xa0, 0x10, 0x00,		/* mov %fs:0x10, %al */
	0xe6, 0x10,			/* out %al, $0x10 */
	0x64, 0xa0, 0x10, 0x00,		/* mov %fs:0x10, %al (now RAM) */
	0xe6, 0x11,			/* out %al, $0x11 */
	0xf4,				/* hlt */
};

#define GPA_NEW		0x100000ULL

int main(void)
{
	struct khv_guest g;
	uint8_t *page;
	long r;

	tap_plan(5);
	khv_guest_create(&g, code, sizeof(code));
	page = khv_alloc(4096);
	memset(page, 0xaa, 4096);

	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_MMIO &&
	       g.run->mmio.phys_addr == GPA_NEW && g.run->mmio.len == 1 &&
	       !g.run->mmio.is_write,
	       "read of 0x100000 (no slot) is an MMIO read exit (KVM_RUN %ld, %s, 0x%llx)",
	       r, khv_exit_name(g.run->exit_reason), g.run->mmio.phys_addr);

	EXPECT_EQ(khv_set_mem(g.vm, 1, 0, GPA_NEW, 4096, page), 0,
		  "a memslot is added over that address before the read completes");
	g.run->mmio.data[0] = 0x55;

	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_IO && g.run->io.port == 0x10 &&
	       *((uint8_t *)g.run + g.run->io.data_offset) == 0x55,
	       "the completed read returns user space's data 0x55, not the new RAM's "
	       "(KVM_RUN %ld, %s, port 0x%x, 0x%x)", r, khv_exit_name(g.run->exit_reason),
	       g.run->io.port, *((uint8_t *)g.run + g.run->io.data_offset));

	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_IO && g.run->io.port == 0x11 &&
	       *((uint8_t *)g.run + g.run->io.data_offset) == 0xaa,
	       "the next read of that address reads the new RAM (0x%x)",
	       *((uint8_t *)g.run + g.run->io.data_offset));
	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_HLT, "then HLT (%s)",
	       khv_exit_name(g.run->exit_reason));
	khv_guest_destroy(&g);
	munmap(page, 4096);
	return tap_finish();
}
