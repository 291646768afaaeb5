// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslot changes while a vCPU runs.
 *  1. One thread loops on KVM_RUN of a guest that keeps reading a page of
 *     slot 1 and reporting it by port I/O, while another thread creates,
 *     moves and deletes slot 2 thousands of times: every ioctl succeeds and
 *     the guest keeps seeing its page.
 *  2. A guest spins reading slot 1 without ever exiting; another thread
 *     deletes slot 1: the guest's next read is MMIO. This needs the running
 *     vCPU to be kicked out of the guest and its TLB flushed; without that
 *     it would read its stale mapping forever (the test then fails on its
 *     alarm). SVM lanes only: on Bochs a guest that never exits is not
 *     interrupted (Documentation/testing.md).
 */
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define SLOT1_GPA	0x30000		/* DS base of the guest: DS = 0x3000 */
#define PG		4096

/* loop: read DS:0, report it on port 0x42, again */
static const uint8_t code[] = {
	0xb8, 0x00, 0x30,	/* mov $0x3000, %ax */
	0x8e, 0xd8,		/* mov %ax, %ds */
	0xa0, 0x00, 0x00,	/* 1: mov (0), %al */
	0xe6, 0x42,		/* out %al, $0x42 */
	0xeb, 0xf9,		/* jmp 1b */
};

static atomic_int stop;
static long churn_errors, churn_ops;
static int vmfd;
static uint8_t *slot2_mem;

/* at 0x1100: the same read, without any exit */
static const uint8_t spin[] = {
	0xb8, 0x00, 0x30,	/* mov $0x3000, %ax */
	0x8e, 0xd8,		/* mov %ax, %ds */
	0xa0, 0x00, 0x00,	/* 1: mov (0), %al */
	0xeb, 0xfb,		/* jmp 1b */
};

static void on_alarm(int sig)
{
	(void)sig;
}

static void *delete_later(void *arg)
{
	usleep(300 * 1000);
	*(long *)arg = khv_set_mem(vmfd, 1, 0, 0, 0, NULL);
	return NULL;
}


static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t gpa = 0x400000 + (churn_ops % 16) * 0x10000;

		if (khv_set_mem(vmfd, 2, 0, gpa, 16 * PG, slot2_mem))
			churn_errors++;
		if (khv_set_mem(vmfd, 2, 0, gpa + 0x100000, 16 * PG, slot2_mem))
			churn_errors++;
		if (khv_set_mem(vmfd, 2, 0, 0, 0, NULL))
			churn_errors++;
		churn_ops += 3;
	}
	return NULL;
}

int main(void)
{
	struct khv_guest g;
	uint8_t *slot1 = khv_alloc(PG);
	long r = 0, runs = 0, wrong = 0;
	pthread_t t;

	tap_plan(6);
	khv_guest_create(&g, code, sizeof(code));
	slot1[0] = 0xa5;
	slot2_mem = khv_alloc(16 * PG);
	vmfd = g.vm;
	/* RAM around one page of its own (slot 1) where the guest reads. */
	if (khv_set_mem(g.vm, 0, 0, 0, 0, NULL) ||
	    khv_set_mem(g.vm, 0, 0, 0, SLOT1_GPA, g.mem) ||
	    khv_set_mem(g.vm, 3, 0, SLOT1_GPA + PG, 0x100000 - SLOT1_GPA - PG,
			g.mem + SLOT1_GPA + PG))
		tap_bail("memory layout");
	EXPECT_EQ(khv_set_mem(g.vm, 1, 0, SLOT1_GPA, PG, slot1), 0,
		  "slot 1: the page the guest reads");

	pthread_create(&t, NULL, churn, NULL);
	for (runs = 0; runs < 20000; runs++) {
		r = khv_guest_run(&g);
		if (r || g.run->exit_reason != KVM_EXIT_IO || g.run->io.port != 0x42)
			break;
		if (*((uint8_t *)g.run + g.run->io.data_offset) != 0xa5)
			wrong++;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	tap_ok(runs == 20000, "20000 guest reads while slot 2 churns (stopped at %ld: "
	       "KVM_RUN %ld, exit %s)", runs, r, khv_exit_name(g.run->exit_reason));
	tap_ok(!wrong, "the guest always read its own page (%ld wrong)", wrong);
	tap_ok(!churn_errors && churn_ops > 0, "%ld memslot ioctls, %ld failed",
	       churn_ops, churn_errors);

	/* Delete slot 1 while the guest spins on it inside KVM_RUN. */
	{
		struct sigaction sa = { .sa_handler = on_alarm };
		struct kvm_regs regs;
		long del = -1;

		sigaction(SIGALRM, &sa, NULL);
		memcpy(g.mem + 0x1100, spin, sizeof(spin));
		khv_ioctl_p(g.vcpu, KVM_GET_REGS, &regs);
		regs.rip = 0x1100;
		khv_ioctl_p(g.vcpu, KVM_SET_REGS, &regs);
		pthread_create(&t, NULL, delete_later, &del);
		alarm(20);
		r = khv_guest_run(&g);
		alarm(0);
		pthread_join(t, NULL);
		EXPECT_EQ(del, 0, "slot 1 deleted while the guest spins on it");
	}
	tap_ok(r == 0 && g.run->exit_reason == KVM_EXIT_MMIO &&
	       g.run->mmio.phys_addr == SLOT1_GPA && !g.run->mmio.is_write,
	       "the guest's next read is an MMIO read of 0x30000 (%s, 0x%llx)",
	       khv_exit_name(g.run->exit_reason), g.run->mmio.phys_addr);
	khv_guest_destroy(&g);
	return tap_finish();
}
