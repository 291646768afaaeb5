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
