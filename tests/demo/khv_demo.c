// SPDX-License-Identifier: GPL-2.0-only
/*
 * The main job, shown to a new user: a guest runs on khv. The guest is a
 * few bytes of real-mode code that prints a greeting through port 0xe9
 * (the "debug console" port of QEMU and Bochs) one character per OUT, asks
 * CPUID for the hypervisor's vendor string that this program put in the
 * vCPU's CPUID table, prints that, and halts. Everything goes through
 * /dev/khv with the KVM ioctl ABI.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const unsigned char guest[] = {
	0xbe, 0x00, 0x20,		/* mov $0x2000, %si       (message) */
	0xac,				/* 1: lodsb */
	0x84, 0xc0,			/* test %al, %al */
	0x74, 0x04,			/* jz 2f */
	0xe6, 0xe9,			/* out %al, $0xe9 */
	0xeb, 0xf7,			/* jmp 1b */
	0x66, 0xb8, 0x00, 0x00, 0x00, 0x40, /* 2: mov $0x40000000, %eax */
	0x0f, 0xa2,			/* cpuid */
	0x66, 0x89, 0xd8,		/* mov %ebx, %eax */
	0x66, 0xe7, 0xea,		/* out %eax, $0xea   (vendor, 4 bytes a time) */
	0x66, 0x89, 0xc8,		/* mov %ecx, %eax */
	0x66, 0xe7, 0xea,		/* out %eax, $0xea */
	0x66, 0x89, 0xd0,		/* mov %edx, %eax */
	0x66, 0xe7, 0xea,		/* out %eax, $0xea */
	0xf4,				/* hlt */
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/khv";
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[1]; } cpuid = {
		.c.nent = 1,
		.e[0] = { .function = 0x40000000, .eax = 0x40000000 },
	};
	struct kvm_userspace_memory_region mem = { .memory_size = 1 << 20 };
	struct timespec t0, t1;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	unsigned long exits = 0;
	struct kvm_run *run;
	char vendor[13] = "";
	int fd, vm, vcpu, nv = 0;
	unsigned char *ram;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(dev);
	printf("khv-demo: %s speaks KVM API version %d\n", dev,
	       ioctl(fd, KVM_GET_API_VERSION, 0));
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	ram = mmap(NULL, mem.memory_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ram + 0x1000, guest, sizeof(guest));
	strcpy((char *)ram + 0x2000, "Hello from a real-mode guest running on khv!\n");
	mem.userspace_addr = (unsigned long)ram;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem))
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	memcpy(&cpuid.e[0].ebx, "khvkhvkhvkhv", 4);
	memcpy(&cpuid.e[0].ecx, "khvkhvkhvkhv" + 4, 4);
	memcpy(&cpuid.e[0].edx, "khvkhvkhvkhv" + 8, 4);
	if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid))
		die("KVM_SET_CPUID2");
	run = mmap(NULL, ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0),
		   PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_SREGS/REGS");

	printf("khv-demo: guest output follows\n");
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		exits++;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xe9) {
			putchar(*((char *)run + run->io.data_offset));
		} else if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xea &&
			   nv < 12) {
			memcpy(vendor + nv, (char *)run + run->io.data_offset, 4);
			nv += 4;
		} else if (run->exit_reason == KVM_EXIT_HLT) {
			break;
		} else {
			fprintf(stderr, "khv-demo: unexpected exit %u\n", run->exit_reason);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("khv-demo: the guest read hypervisor vendor \"%s\" from CPUID\n", vendor);
	printf("khv-demo: guest halted after %lu exits to user space, %.1f ms from open() to HLT\n",
	       exits, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	return strcmp(vendor, "khvkhvkhvkhv") != 0;
}
