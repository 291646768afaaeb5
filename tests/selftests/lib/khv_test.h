/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv selftest library: TAP output, the device under test, small helpers.
 *
 * A selftest is one static program. It finds the device under test in the
 * environment, so the same binary runs against khv and against stock KVM:
 *
 *   KHV_DEV     device node (default /dev/khv; /dev/kvm for the oracle)
 *   KHV_TARGET  "khv" or "kvm"
 *   KHV_LANE    "svm", "vmx" or "debug"
 *   KHV_MODDIR  directory holding khv's .ko files (default /lib/khv)
 *
 * Exit status: 0 all passed, 1 something failed, 4 skipped (kselftest's
 * KSFT_SKIP).
 */
#ifndef KHV_TEST_H
#define KHV_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

void tap_plan(int n);
/* Record one test point; returns cond so callers can chain. */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skip the whole program (plan 1..0) and exit 4. */
void tap_skip_all(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Abort: the environment is broken; prints "Bail out!" and exits 1. */
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* End of the program: checks the plan and returns the exit status. */
int tap_finish(void);

const char *khv_dev_path(void);
const char *khv_target(void);	/* "khv" or "kvm" */
const char *khv_lane(void);	/* "svm", "vmx", "debug" or "" */
bool khv_is_oracle(void);	/* running against stock KVM */
const char *khv_moddir(void);

/* Open the device under test (O_RDWR | O_CLOEXEC); bails out on failure. */
int khv_open_dev(void);
/* ioctl() that returns -errno instead of -1. */
long khv_ioctl(int fd, unsigned long req, unsigned long arg);
/* ioctl() with a pointer argument. */
long khv_ioctl_p(int fd, unsigned long req, void *arg);

/* Check an ioctl result against an expected value or -errno, with a message. */
#define EXPECT_EQ(got, want, ...)					\
	({								\
		long __g = (long)(got), __w = (long)(want);		\
		if (__g != __w)						\
			tap_diag("  got %ld (%s), want %ld (%s)", __g,	\
				 __g < 0 ? strerror((int)-__g) : "-",	\
				 __w, __w < 0 ? strerror((int)-__w) : "-"); \
		tap_ok(__g == __w, __VA_ARGS__);			\
	})

#endif /* KHV_TEST_H */

#ifndef KHV_TEST_H_VM
#define KHV_TEST_H_VM
/* KVM_CREATE_VM on the device; bails out on failure. */
int khv_create_vm(int devfd);
/* KVM_CREATE_VCPU; bails out on failure. */
int khv_create_vcpu(int vmfd, unsigned long id);
/* KVM_SET_USER_MEMORY_REGION; returns 0 or -errno. */
long khv_set_mem(int vmfd, uint32_t slot, uint32_t flags, uint64_t gpa,
		 uint64_t size, void *hva);
/* Name of the module each VM pins: khv_svm/khv_vmx or kvm_amd/kvm_intel. */
const char *khv_vendor_module(void);
/* That module's reference count from /sys/module, or -1. */
long khv_module_refcnt(const char *mod);
/* mmap() anonymous memory, bail out on failure. */
void *khv_alloc(size_t size);
/* Raise RLIMIT_NOFILE to at least n. */
void khv_want_fds(unsigned long n);
#endif

#ifndef KHV_TEST_H_GUEST
#define KHV_TEST_H_GUEST
#include <linux/kvm.h>
/*
 * A one-vCPU real-mode guest: 1 MiB of RAM at guest-physical 0 (slot 0),
 * the code copied to 0x1000, CS:IP = 0:0x1000, SS:SP = 0:0x8000.
 */
struct khv_guest {
	int dev, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
	size_t mem_size;
};
#define KHV_GUEST_CODE	0x1000
void khv_guest_create(struct khv_guest *g, const void *code, size_t len);
void khv_guest_destroy(struct khv_guest *g);
/* KVM_RUN; returns 0 or -errno. */
long khv_guest_run(struct khv_guest *g);
/* Describe the last exit, for diagnostics. */
const char *khv_exit_name(uint32_t reason);
#endif
