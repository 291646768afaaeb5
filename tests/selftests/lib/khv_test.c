// SPDX-License-Identifier: GPL-2.0-only
/* khv selftest library: see khv_test.h. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "khv_test.h"

static int tap_planned = -1, tap_count, tap_failed, tap_skipped;

void tap_plan(int n)
{
	tap_planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static void tap_vline(const char *prefix, const char *fmt, va_list ap,
		      const char *suffix)
{
	printf("%s %d - ", prefix, ++tap_count);
	vprintf(fmt, ap);
	printf("%s\n", suffix);
	fflush(stdout);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline(cond ? "ok" : "not ok", fmt, ap, "");
	va_end(ap);
	if (!cond)
		tap_failed++;
	return cond;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof(suffix), " # SKIP %s", reason);
	va_start(ap, fmt);
	tap_vline("ok", fmt, ap, suffix);
	va_end(ap);
	tap_skipped++;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("TAP version 13\n1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(KSFT_SKIP);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(KSFT_FAIL);
}

int tap_finish(void)
{
	if (tap_planned >= 0 && tap_count != tap_planned) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_count);
		tap_failed++;
	}
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	printf("# %d passed, %d failed, %d skipped\n",
	       tap_count - tap_failed - tap_skipped, tap_failed, tap_skipped);
	fflush(stdout);
	if (tap_failed)
		return KSFT_FAIL;
	if (tap_count && tap_skipped == tap_count)
		return KSFT_SKIP;
	return KSFT_PASS;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *khv_dev_path(void)
{
	return env_or("KHV_DEV", "/dev/khv");
}

const char *khv_target(void)
{
	return env_or("KHV_TARGET", "khv");
}

const char *khv_lane(void)
{
	return env_or("KHV_LANE", "");
}

bool khv_is_oracle(void)
{
	return strcmp(khv_target(), "kvm") == 0;
}

const char *khv_moddir(void)
{
	return env_or("KHV_MODDIR", "/lib/khv");
}

int khv_open_dev(void)
{
	int fd = open(khv_dev_path(), O_RDWR | O_CLOEXEC);

	if (fd < 0)
		tap_bail("open %s: %s", khv_dev_path(), strerror(errno));
	return fd;
}

long khv_ioctl(int fd, unsigned long req, unsigned long arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

long khv_ioctl_p(int fd, unsigned long req, void *arg)
{
	return khv_ioctl(fd, req, (unsigned long)arg);
}

#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/resource.h>

int khv_create_vm(int devfd)
{
	long fd = khv_ioctl(devfd, KVM_CREATE_VM, 0);

	if (fd < 0)
		tap_bail("KVM_CREATE_VM: %s", strerror((int)-fd));
	return (int)fd;
}

int khv_create_vcpu(int vmfd, unsigned long id)
{
	long fd = khv_ioctl(vmfd, KVM_CREATE_VCPU, id);

	if (fd < 0)
		tap_bail("KVM_CREATE_VCPU %lu: %s", id, strerror((int)-fd));
	return (int)fd;
}

long khv_set_mem(int vmfd, uint32_t slot, uint32_t flags, uint64_t gpa,
		 uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	return khv_ioctl_p(vmfd, KVM_SET_USER_MEMORY_REGION, &r);
}

const char *khv_vendor_module(void)
{
	bool vmx = !strcmp(khv_lane(), "vmx");

	if (khv_is_oracle())
		return vmx ? "kvm_intel" : "kvm_amd";
	return vmx ? "khv_vmx" : "khv_svm";
}

long khv_module_refcnt(const char *mod)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

void *khv_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		tap_bail("mmap %zu: %s", size, strerror(errno));
	return p;
}

void khv_want_fds(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n) {
		rl.rlim_cur = n;
		if (rl.rlim_max < n)
			rl.rlim_max = n;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void khv_guest_create(struct khv_guest *g, const void *code, size_t len)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long sz;

	g->dev = khv_open_dev();
	g->vm = khv_create_vm(g->dev);
	g->mem_size = 1 << 20;
	g->mem = khv_alloc(g->mem_size);
	memcpy(g->mem + KHV_GUEST_CODE, code, len);
	if (khv_set_mem(g->vm, 0, 0, 0, g->mem_size, g->mem))
		tap_bail("guest memory slot");
	g->vcpu = khv_create_vcpu(g->vm, 0);
	sz = khv_ioctl(g->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		tap_bail("mmap kvm_run: %s", strerror(errno));
	if (khv_ioctl_p(g->vcpu, KVM_GET_SREGS, &sregs))
		tap_bail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (khv_ioctl_p(g->vcpu, KVM_SET_SREGS, &sregs))
		tap_bail("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = KHV_GUEST_CODE;
	regs.rsp = 0x8000;
	regs.rflags = 2;
	if (khv_ioctl_p(g->vcpu, KVM_SET_REGS, &regs))
		tap_bail("KVM_SET_REGS");
}

void khv_guest_destroy(struct khv_guest *g)
{
	close(g->vcpu);
	close(g->vm);
	close(g->dev);
	munmap(g->mem, g->mem_size);
}

long khv_guest_run(struct khv_guest *g)
{
	return khv_ioctl(g->vcpu, KVM_RUN, 0);
}

const char *khv_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}
