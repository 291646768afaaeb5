// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vCPU fd's mmap: struct kvm_run at offset 0, the PIO data page at page
 * 1, SIGBUS beyond KVM_GET_VCPU_MMAP_SIZE; VM and system fds cannot be
 * mapped.
 */
#include <linux/kvm.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/khv_test.h"

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	siglongjmp(jb, sig);
}

/* Reads one byte; returns the signal number it raised, or 0. */
static int probe(volatile char *p)
{
	int sig = sigsetjmp(jb, 1);

	if (sig)
		return sig;
	(void)*p;
	return 0;
}

int main(void)
{
	int dev = khv_open_dev(), vm, vcpu;
	long size, pg = getpagesize();
	struct kvm_run *a, *b;
	char *p;

	tap_plan(8);
	signal(SIGBUS, on_sigbus);
	size = khv_ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm = khv_create_vm(dev);
	vcpu = khv_create_vcpu(vm, 0);

	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	b = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	tap_ok(a != MAP_FAILED && b != MAP_FAILED,
	       "map the whole vCPU area, and its first page again");
	if (a == MAP_FAILED || b == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	a->immediate_exit = 1;
	tap_ok(b->immediate_exit == 1, "both mappings show the same kvm_run");
	a->immediate_exit = 0;
	tap_ok(probe((char *)a + pg) == 0, "the PIO data page (page 1) is there");

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, pg);
	tap_ok(p != MAP_FAILED && probe(p) == 0, "page 1 mapped on its own");

	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, vcpu, size);
	tap_ok(p != MAP_FAILED, "mapping past KVM_GET_VCPU_MMAP_SIZE succeeds");
	tap_ok(p != MAP_FAILED && probe(p) == SIGBUS, "... and touching it is SIGBUS");

	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, vm, 0);
	tap_ok(p == MAP_FAILED && errno == ENODEV, "a VM fd cannot be mapped: ENODEV");
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, dev, 0);
	tap_ok(p == MAP_FAILED && errno == ENODEV, "/dev cannot be mapped: ENODEV");
	return tap_finish();
}
