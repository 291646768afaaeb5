// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VM lives until its last fd (VM fd, vCPU fd, or a vCPU mmap) is gone,
 * whatever the order of closes, and when its process dies at any point.
 * Each VM pins the backend module (khv_svm/khv_vmx, or kvm_amd/kvm_intel on
 * stock KVM); the module's refcount is back where it started once the VM is
 * gone, which shows the VM was freed.
 */
#include <linux/kvm.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define NR_VCPUS 3

struct vm {
	int vm, vcpu[NR_VCPUS];
	void *run;
};

static long base, mmap_size;
static char *mem;

static void build(int dev, struct vm *v)
{
	v->vm = khv_create_vm(dev);
	for (int i = 0; i < NR_VCPUS; i++)
		v->vcpu[i] = khv_create_vcpu(v->vm, i);
	if (khv_set_mem(v->vm, 0, 0, 0, 4096, mem) ||
	    khv_set_mem(v->vm, 1, KVM_MEM_LOG_DIRTY_PAGES, 0x10000, 4096, mem))
		tap_bail("KVM_SET_USER_MEMORY_REGION failed");
	v->run = NULL;
}

static bool gone(const char *what)
{
	long now = khv_module_refcnt(khv_vendor_module());

	if (now != base)
		tap_diag("%s: %s refcount %ld, was %ld", what,
			 khv_vendor_module(), now, base);
	return now == base;
}

static void child_and_wait(int dev, bool kill_it)
{
	struct vm v;
	int p[2], st;
	pid_t pid;
	char c;

	if (pipe(p))
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		build(dev, &v);
		v.run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE,
			     MAP_SHARED, v.vcpu[1], 0);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		if (kill_it)
			pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		tap_bail("child died early");
	close(p[0]);
	if (kill_it)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

int main(void)
{
	int dev = khv_open_dev();
	struct vm v;

	tap_plan(7);
	mem = khv_alloc(4096);
	mmap_size = khv_ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	base = khv_module_refcnt(khv_vendor_module());
	if (base < 0)
		tap_bail("no /sys/module/%s/refcnt", khv_vendor_module());

	build(dev, &v);
	tap_ok(khv_module_refcnt(khv_vendor_module()) == base + 1,
	       "a VM pins %s", khv_vendor_module());
	close(v.vm);
	for (int i = 0; i < NR_VCPUS; i++)
		close(v.vcpu[i]);
	tap_ok(gone("VM first"), "VM fd closed first, then the vCPU fds");

	build(dev, &v);
	for (int i = NR_VCPUS - 1; i >= 0; i--)
		close(v.vcpu[i]);
	close(v.vm);
	tap_ok(gone("vCPUs first"), "vCPU fds closed first, then the VM fd");

	build(dev, &v);
	close(v.vcpu[1]);
	close(v.vm);
	close(v.vcpu[0]);
	close(v.vcpu[2]);
	tap_ok(gone("interleaved"), "fds closed interleaved");

	build(dev, &v);
	v.run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     v.vcpu[2], 0);
	if (v.run == MAP_FAILED)
		tap_bail("mmap vcpu: %s", strerror(errno));
	close(v.vm);
	for (int i = 0; i < NR_VCPUS; i++)
		close(v.vcpu[i]);
	tap_ok(khv_module_refcnt(khv_vendor_module()) == base + 1,
	       "a vCPU mmap keeps the VM after every fd is closed");
	munmap(v.run, mmap_size);
	tap_ok(gone("munmap"), "munmap of the last mapping frees the VM");

	child_and_wait(dev, false);
	child_and_wait(dev, true);
	tap_ok(gone("process death"),
	       "processes exiting or killed with their VMs open free them");
	return tap_finish();
}
