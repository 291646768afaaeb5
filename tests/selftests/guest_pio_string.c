// SPDX-License-Identifier: GPL-2.0-only
/*
 * String port I/O: rep outsb from guest memory and rep insw into it. The
 * elements may come in one exit or several (count in kvm_run.io); what
 * counts is the data, the order, and SI/DI/CX afterwards.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

static const uint8_t code[] = {
	0xbe, 0x00, 0x20,		/* mov $0x2000, %si */
	0xb9, 0x05, 0x00,		/* mov $5, %cx */
	0xba, 0x80, 0x00,		/* mov $0x80, %dx */
	0xf3, 0x6e,			/* rep outsb */
	0xbf, 0x00, 0x30,		/* mov $0x3000, %di */
	0xb9, 0x03, 0x00,		/* mov $3, %cx */
	0xba, 0x82, 0x00,		/* mov $0x82, %dx */
	0xf3, 0x6d,			/* rep insw */
	0xba, 0x80, 0x00,		/* mov $0x80, %dx */
	0x6e,				/* outsb (no rep): one more byte from SI */
	0xf4,				/* hlt */
};

int main(void)
{
	uint8_t out[16], *pio;
	unsigned int nout = 0, nin = 0, exits = 0;
	struct khv_guest g;
	struct kvm_regs regs;
	long r;

	tap_plan(5);
	khv_guest_create(&g, code, sizeof(code));
	memcpy(g.mem + 0x2000, "hello!", 6);

	for (;;) {
		r = khv_guest_run(&g);
		if (r || g.run->exit_reason != KVM_EXIT_IO)
			break;
		exits++;
		pio = (uint8_t *)g.run + g.run->io.data_offset;
		if (g.run->io.direction == KVM_EXIT_IO_OUT && g.run->io.port == 0x80 &&
		    g.run->io.size == 1) {
			for (unsigned int i = 0; i < g.run->io.count && nout < sizeof(out); i++)
				out[nout++] = pio[i];
		} else if (g.run->io.direction == KVM_EXIT_IO_IN && g.run->io.port == 0x82 &&
			   g.run->io.size == 2) {
			for (unsigned int i = 0; i < g.run->io.count; i++, nin++) {
				pio[2 * i] = 0xa0 + nin;
				pio[2 * i + 1] = 0xb0 + nin;
			}
		} else {
			tap_diag("unexpected I/O: dir %d port 0x%x size %d",
				 g.run->io.direction, g.run->io.port, g.run->io.size);
			break;
		}
	}
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_HLT, "ends in HLT after %u I/O exits (%s)",
	       exits, khv_exit_name(g.run->exit_reason));
	tap_ok(nout == 6 && !memcmp(out, "hello!", 6), "rep outsb + outsb sent \"hello!\" (%u bytes)", nout);
	tap_ok(nin == 3 && !memcmp(g.mem + 0x3000, "\xa0\xb0\xa1\xb1\xa2\xb2", 6),
	       "rep insw stored 3 words in guest memory (%u)", nin);
	khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
	tap_ok((uint16_t)regs.rsi == 0x2006 && (uint16_t)regs.rdi == 0x3006,
	       "SI 0x%llx and DI 0x%llx advanced", regs.rsi, regs.rdi);
	tap_ok((uint16_t)regs.rcx == 0, "CX counted down to 0 (0x%llx)", regs.rcx);
	khv_guest_destroy(&g);
	return tap_finish();
}
