// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest that spins forever is interrupted by a signal: KVM_RUN returns
 * EINTR with KVM_EXIT_INTR within a bounded time. With immediate_exit set,
 * KVM_RUN returns EINTR at once without entering the guest.
 */
#include <linux/kvm.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/khv_test.h"

static const uint8_t spin[] = {
	0x40,			/* 1: inc %ax */
	0xeb, 0xfd,		/* jmp 1b */
};

static void on_alarm(int sig)
{
	(void)sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct khv_guest g;
	struct kvm_regs regs;
	double t;
	long r;

	tap_plan(4);
	sigaction(SIGALRM, &sa, NULL);
	khv_guest_create(&g, spin, sizeof(spin));

	g.run->immediate_exit = 1;
	r = khv_guest_run(&g);
	khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
	tap_ok(r == -EINTR && regs.rax == 0,
	       "immediate_exit: EINTR without running the guest (%ld, ax %llu)",
	       r, regs.rax);
	g.run->immediate_exit = 0;

	t = now();
	setitimer(ITIMER_REAL, &it, NULL);
	r = khv_guest_run(&g);
	t = now() - t;
	EXPECT_EQ(r, -EINTR, "a signal interrupts the spinning guest: EINTR");
	tap_ok(g.run->exit_reason == KVM_EXIT_INTR, "exit reason KVM_EXIT_INTR (%s)",
	       khv_exit_name(g.run->exit_reason));
	khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
	tap_ok(t < 30 && regs.rax != 0,
	       "within %.2f s, and the guest did run (ax %llu)", t, regs.rax);
	khv_guest_destroy(&g);
	return tap_finish();
}
