// SPDX-License-Identifier: GPL-2.0-only
/*
 * A triple fault ends in KVM_EXIT_SHUTDOWN: a real-mode guest with an empty
 * interrupt table (IDTR limit 0) executes int3; delivering it faults, and so
 * does delivering that fault.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

static const uint8_t code[] = {
	0xcc,			/* int3 */
	0xf4,			/* hlt: never reached */
};

int main(void)
{
	struct khv_guest g;
	struct kvm_sregs sregs;
	long r;

	tap_plan(2);
	khv_guest_create(&g, code, sizeof(code));
	khv_ioctl_p(g.vcpu, KVM_GET_SREGS, &sregs);
	sregs.idt.limit = 0;
	EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_SREGS, &sregs), 0, "IDT limit 0");
	r = khv_guest_run(&g);
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_SHUTDOWN,
	       "triple fault: KVM_EXIT_SHUTDOWN (KVM_RUN %ld, exit %s)", r,
	       khv_exit_name(g.run->exit_reason));
	khv_guest_destroy(&g);
	return tap_finish();
}
