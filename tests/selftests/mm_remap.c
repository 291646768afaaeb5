// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory follows the VMM's address space: a running guest reads and
 * increments a word in a memslot whose backing the host replaces with
 * mmap(MAP_FIXED), moves in with mremap(), and unmaps, between runs.
 *
 * After each replacement the guest sees the new page and its writes land
 * there (the old page is no longer reachable through stale stage-2
 * entries). With the backing unmapped KVM_RUN fails with -EFAULT (KVM's
 * answer: the slot's user memory is gone) and the host stays clean; with
 * the slot deleted the same access becomes an MMIO exit; mapping memory
 * again brings the guest back.
 */
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define SLOT_GPA	0x200000	/* DS base: the slot, above the 1 MiB of RAM */
#define SLOT_SIZE	0x2000
#define PORT		0x10

static const uint8_t code[] = {
	0xa1, 0x00, 0x00,		/* 1: mov (0), %ax */
	0x83, 0x06, 0x02, 0x00, 0x01,	/* addw $1, (2) */
	0xe7, PORT,			/* out %ax, $PORT */
	0xeb, 0xf4,			/* jmp 1b */
};

static struct khv_guest g;

/* Run to the guest's next OUT; returns the value, or -1 with a diagnostic. */
static long run_out(void)
{
	long r = khv_guest_run(&g);

	if (r || g.run->exit_reason != KVM_EXIT_IO || g.run->io.port != PORT) {
		tap_diag("  run: %ld, exit %s", r, khv_exit_name(g.run->exit_reason));
		return -1;
	}
	return *(uint16_t *)((uint8_t *)g.run + g.run->io.data_offset);
}

static uint16_t *fill(void *p, uint16_t v)
{
	uint16_t *w = p;

	w[0] = v;
	w[1] = 0;
	return w;
}

int main(void)
{
	struct kvm_sregs sregs;
	uint16_t *w, *other;
	void *hva, *p;
	long r;

	tap_plan(14);
	khv_guest_create(&g, code, sizeof(code));
	khv_ioctl_p(g.vcpu, KVM_GET_SREGS, &sregs);
	sregs.ds.base = SLOT_GPA;
	if (khv_ioctl_p(g.vcpu, KVM_SET_SREGS, &sregs))
		tap_bail("KVM_SET_SREGS");

	hva = khv_alloc(SLOT_SIZE);
	w = fill(hva, 0x1111);
	if (khv_set_mem(g.vm, 1, 0, SLOT_GPA, SLOT_SIZE, hva))
		tap_bail("slot 1");
	EXPECT_EQ(run_out(), 0x1111, "guest reads the first backing");
	EXPECT_EQ(run_out(), 0x1111, "and again, after its write");
	tap_ok(w[1] == 2, "its writes reach the first backing (%u)", w[1]);

	/* Replace the page under the running guest. */
	p = mmap(hva, SLOT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p != hva)
		tap_bail("mmap MAP_FIXED");
	w = fill(hva, 0x2222);
	EXPECT_EQ(run_out(), 0x2222, "mmap(MAP_FIXED): the guest sees the new page");
	run_out();
	tap_ok(w[1] == 2, "its writes reach the new page (%u)", w[1]);

	/* Move other memory over the slot's backing. */
	other = khv_alloc(SLOT_SIZE);
	fill(other, 0x3333);
	p = mremap(other, SLOT_SIZE, SLOT_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, hva);
	if (p != hva)
		tap_bail("mremap");
	w = hva;
	EXPECT_EQ(run_out(), 0x3333, "mremap(): the guest sees the moved page");
	run_out();
	tap_ok(w[1] == 2, "its writes reach the moved page (%u)", w[1]);

	/* No memory behind the slot: KVM_RUN fails, the host is fine. */
	munmap(hva, SLOT_SIZE);
	r = khv_guest_run(&g);
	EXPECT_EQ(r, -EFAULT, "munmap(): KVM_RUN fails with EFAULT");

	/* Without the slot, the access is MMIO. */
	EXPECT_EQ(khv_set_mem(g.vm, 1, 0, SLOT_GPA, 0, hva), 0, "slot deleted");
	r = khv_guest_run(&g);
	tap_ok(!r && g.run->exit_reason == KVM_EXIT_MMIO && !g.run->mmio.is_write &&
	       g.run->mmio.phys_addr == SLOT_GPA,
	       "without the slot the read is an MMIO exit (%ld, %s, 0x%llx)", r,
	       khv_exit_name(g.run->exit_reason),
	       (unsigned long long)g.run->mmio.phys_addr);
	memcpy(g.run->mmio.data, "\x55\x55", 2);
	/* Complete the read before the slot comes back. */
	g.run->immediate_exit = 1;
	EXPECT_EQ(khv_guest_run(&g), -EINTR, "immediate_exit completes the read");
	g.run->immediate_exit = 0;

	/* Memory again: the guest continues on it. */
	p = mmap(hva, SLOT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p != hva)
		tap_bail("mmap again");
	w = fill(hva, 0x4444);
	if (khv_set_mem(g.vm, 1, 0, SLOT_GPA, SLOT_SIZE, hva))
		tap_bail("slot 1 again");
	EXPECT_EQ(run_out(), 0x5555, "the MMIO data reaches the guest");
	EXPECT_EQ(run_out(), 0x4444, "a new slot on new memory: the guest reads it");
	tap_ok(w[1] == 2, "its writes reach the new memory (%u)", w[1]);

	khv_guest_destroy(&g);
	return tap_finish();
}
