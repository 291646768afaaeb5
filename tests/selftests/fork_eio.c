// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM and vCPU fds belong to the process (mm) that created the VM: a forked
 * child using them gets EIO for every ioctl, the system fd still works for
 * it, and the parent is unaffected.
 */
#include <linux/kvm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/khv_test.h"

/* Child: one bit per check that failed; exit status 0 when all held. */
static int child(int dev, int vm, int vcpu, char *mem)
{
	int bad = 0, vm2;

	if (khv_ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) != -EIO)
		bad |= 1;
	if (khv_ioctl(vm, KVM_CREATE_VCPU, 1) != -EIO)
		bad |= 2;
	if (khv_set_mem(vm, 0, 0, 0, 4096, mem) != -EIO)
		bad |= 4;
	if (khv_ioctl(vcpu, KVM_RUN, 0) != -EIO)
		bad |= 8;
	if (khv_ioctl(vcpu, _IO(KVMIO, 0xfe), 0) != -EIO)
		bad |= 16;
	if (khv_ioctl(dev, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		bad |= 32;
	vm2 = khv_ioctl(dev, KVM_CREATE_VM, 0);
	if (vm2 < 0 || khv_ioctl(vm2, KVM_CREATE_VCPU, 0) < 0)
		bad |= 64;
	return bad;
}

int main(void)
{
	int dev = khv_open_dev(), vm, vcpu, st;
	char *mem = khv_alloc(4096);
	pid_t pid;

	tap_plan(3);
	vm = khv_create_vm(dev);
	vcpu = khv_create_vcpu(vm, 0);
	pid = fork();
	if (pid == 0)
		_exit(child(dev, vm, vcpu, mem));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		tap_bail("child did not run");
	if (WEXITSTATUS(st))
		tap_diag("child: failed checks mask 0x%x", WEXITSTATUS(st));
	tap_ok(WEXITSTATUS(st) == 0,
	       "in a child, VM and vCPU ioctls give EIO, the system fd works");
	EXPECT_EQ(khv_set_mem(vm, 0, 0, 0, 4096, mem), 0,
		  "the parent still sets memory");
	tap_ok(khv_ioctl(vm, KVM_CREATE_VCPU, 1) >= 0,
	       "the parent still creates vCPUs");
	return tap_finish();
}
