// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dirty logging, in the style of KVM's dirty_log_test: a guest writes
 * pseudo-random words (xorshift16) over a 16-page slot while a host thread
 * harvests the dirty log again and again, copying each page the log names
 * into a shadow copy. After the guest stops and a last harvest, the shadow
 * must equal the slot's memory: a write the log missed would show. Done
 * once with KVM_GET_DIRTY_LOG alone, and once with
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (GET, then KVM_CLEAR_DIRTY_LOG). The
 * slot starts unlogged and already written, so turning logging on must
 * write-protect what the guest had mapped. Also KVM's errnos of the three
 * ioctls.
 */
#include <linux/kvm.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define SLOT		1
#define SLOT_GPA	0x200000	/* DS base */
#define NPAGES		16
#define PG		4096
#define PORT		0x10
#define RUNS		3000		/* exits (64 writes each) per part */

static const uint8_t code[] = {
	0x89, 0xf0,			/* 1: mov %si, %ax */
	0xc1, 0xe0, 0x07,		/* shl $7, %ax */
	0x31, 0xc6,			/* xor %ax, %si */
	0x89, 0xf0,			/* mov %si, %ax */
	0xc1, 0xe8, 0x09,		/* shr $9, %ax */
	0x31, 0xc6,			/* xor %ax, %si */
	0x89, 0xf0,			/* mov %si, %ax */
	0xc1, 0xe0, 0x08,		/* shl $8, %ax */
	0x31, 0xc6,			/* xor %ax, %si */
	0x89, 0xf3,			/* mov %si, %bx */
	0x83, 0xe3, 0xfe,		/* and $0xfffe, %bx */
	0x89, 0x3f,			/* mov %di, (%bx) */
	0x47,				/* inc %di */
	0xf7, 0xc7, 0x3f, 0x00,		/* test $63, %di */
	0x75, 0xdd,			/* jnz 1b */
	0xe7, PORT,			/* out %ax, $PORT */
	0xeb, 0xd9,			/* jmp 1b */
};

struct part {
	struct khv_guest g;
	uint8_t *mem, *shadow;
	volatile int done;
	int bad_exit;
	bool manual;
};

static void *vcpu_thread(void *arg)
{
	struct part *p = arg;
	int i;

	for (i = 0; i < RUNS; i++) {
		long r = khv_guest_run(&p->g);

		if (r || p->g.run->exit_reason != KVM_EXIT_IO ||
		    p->g.run->io.port != PORT) {
			tap_diag("  run %d: %ld, exit %s", i, r,
				 khv_exit_name(p->g.run->exit_reason));
			p->bad_exit = 1;
			break;
		}
	}
	p->done = 1;
	return NULL;
}

/* One harvest: returns the number of dirty pages, or -errno. */
static long harvest(struct part *p, uint64_t *seen)
{
	uint64_t bm = 0;
	struct kvm_dirty_log log = { .slot = SLOT, .dirty_bitmap = &bm };
	long r, n = 0;
	int i;

	r = khv_ioctl_p(p->g.vm, KVM_GET_DIRTY_LOG, &log);
	if (r)
		return r;
	if (p->manual && bm) {
		struct kvm_clear_dirty_log c = {
			.slot = SLOT, .first_page = 0, .num_pages = NPAGES,
			.dirty_bitmap = &bm,
		};

		r = khv_ioctl_p(p->g.vm, KVM_CLEAR_DIRTY_LOG, &c);
		if (r)
			return r;
	}
	/* The copy is made after the bits were taken (and re-protected). */
	for (i = 0; i < NPAGES; i++)
		if (bm & (1ULL << i)) {
			memcpy(p->shadow + i * PG, p->mem + i * PG, PG);
			n++;
		}
	*seen |= bm;
	return n;
}

static void run_part(bool manual)
{
	const char *name = manual ? "manual protect" : "get-and-clear";
	struct part p = { .manual = manual };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t seen = 0;
	long r, rounds = 0;
	pthread_t t;
	int i;

	khv_guest_create(&p.g, code, sizeof(code));
	if (manual) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
		};

		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_ENABLE_CAP, &cap), 0,
			  "KVM_ENABLE_CAP(MANUAL_DIRTY_LOG_PROTECT2)");
	}
	khv_ioctl_p(p.g.vcpu, KVM_GET_SREGS, &sregs);
	sregs.ds.base = SLOT_GPA;
	if (khv_ioctl_p(p.g.vcpu, KVM_SET_SREGS, &sregs))
		tap_bail("KVM_SET_SREGS");
	khv_ioctl_p(p.g.vcpu, KVM_GET_REGS, &regs);
	regs.rsi = 1;
	regs.rdi = 1;
	khv_ioctl_p(p.g.vcpu, KVM_SET_REGS, &regs);

	p.mem = khv_alloc(NPAGES * PG);
	p.shadow = khv_alloc(NPAGES * PG);
	if (khv_set_mem(p.g.vm, SLOT, 0, SLOT_GPA, NPAGES * PG, p.mem))
		tap_bail("slot");
	/* Unlogged writes first: the guest maps the pages writable. */
	for (i = 0; i < 50; i++)
		if (khv_guest_run(&p.g) || p.g.run->exit_reason != KVM_EXIT_IO)
			tap_bail("unlogged run");
	memcpy(p.shadow, p.mem, NPAGES * PG);
	EXPECT_EQ(khv_set_mem(p.g.vm, SLOT, KVM_MEM_LOG_DIRTY_PAGES, SLOT_GPA,
			      NPAGES * PG, p.mem), 0, "%s: logging on", name);

	pthread_create(&t, NULL, vcpu_thread, &p);
	while (!p.done) {
		r = harvest(&p, &seen);
		if (r < 0)
			break;
		rounds++;
	}
	pthread_join(t, NULL);
	r = harvest(&p, &seen);
	tap_ok(r >= 0 && !p.bad_exit, "%s: %ld harvests while the guest ran", name,
	       rounds);
	tap_ok(seen == (1ULL << NPAGES) - 1, "%s: every page was logged (0x%llx)",
	       name, (unsigned long long)seen);
	tap_ok(!memcmp(p.shadow, p.mem, NPAGES * PG),
	       "%s: the pages the log named hold all the guest's writes", name);
	r = harvest(&p, &seen);
	EXPECT_EQ(r, 0, "%s: nothing dirty once the guest stopped", name);

	/* KVM's errnos. */
	{
		uint64_t bm = 0;
		struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = &bm };
		struct kvm_clear_dirty_log c = {
			.slot = SLOT, .first_page = 1, .num_pages = 1,
			.dirty_bitmap = &bm,
		};

		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_GET_DIRTY_LOG, &log), -ENOENT,
			  "%s: GET_DIRTY_LOG of an unlogged slot", name);
		log.slot = 7;
		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_GET_DIRTY_LOG, &log), -ENOENT,
			  "%s: GET_DIRTY_LOG of no slot", name);
		log.slot = 40000;
		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_GET_DIRTY_LOG, &log), -EINVAL,
			  "%s: GET_DIRTY_LOG of a slot id out of range", name);
		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_CLEAR_DIRTY_LOG, &c), -EINVAL,
			  "%s: CLEAR_DIRTY_LOG, first_page not a multiple of 64", name);
		c.first_page = 0;
		c.num_pages = NPAGES + 1;
		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_CLEAR_DIRTY_LOG, &c), -EINVAL,
			  "%s: CLEAR_DIRTY_LOG past the slot", name);
		c.slot = 0;
		c.num_pages = 1;
		EXPECT_EQ(khv_ioctl_p(p.g.vm, KVM_CLEAR_DIRTY_LOG, &c), -ENOENT,
			  "%s: CLEAR_DIRTY_LOG of an unlogged slot", name);
	}
	khv_guest_destroy(&p.g);
}

int main(void)
{
	int dev;
	long r;

	tap_plan(27);
	dev = khv_open_dev();
	r = khv_ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	EXPECT_EQ(r, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET,
		  "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
	close(dev);

	run_part(false);
	run_part(true);

	/* KVM_ENABLE_CAP validation. */
	{
		struct khv_guest g;
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args = { KVM_DIRTY_LOG_INITIALLY_SET },
		};

		khv_guest_create(&g, code, sizeof(code));
		EXPECT_EQ(khv_ioctl_p(g.vm, KVM_ENABLE_CAP, &cap), -EINVAL,
			  "ENABLE_CAP: INITIALLY_SET without ENABLE");
		cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
		cap.flags = 1;
		EXPECT_EQ(khv_ioctl_p(g.vm, KVM_ENABLE_CAP, &cap), -EINVAL,
			  "ENABLE_CAP: flags");
		cap.flags = 0;
		cap.args[0] = 4;
		EXPECT_EQ(khv_ioctl_p(g.vm, KVM_ENABLE_CAP, &cap), -EINVAL,
			  "ENABLE_CAP: unknown option");
		khv_guest_destroy(&g);
	}
	return tap_finish();
}
