// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware virtualization has one owner at a time. With stock KVM loaded
 * next to khv: while a KVM VM exists (EFER.SVME set by kvm-amd), khv's
 * KVM_CREATE_VM fails with EBUSY and says so in dmesg; once it is gone khv
 * creates VMs; while a khv VM exists, KVM cannot create one; and after khv's
 * last VM is gone, KVM can again (khv switched SVM off).
 *
 * SVM lanes only: on Intel, kvm-intel and khv-vmx both register the
 * kernel's single emergency-disable callback at load, so loading both
 * warns (Documentation/api.md).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define STOCK "/lib/stock"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The oracle's modules, in load order (NN-name.ko). */
static int stock_modules(char **names, int max)
{
	DIR *d = opendir(STOCK);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (strstr(e->d_name, ".ko"))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	return n;
}

static bool dmesg_has(const char *what)
{
	char buf[8192];
	bool found = false;
	FILE *f = popen("dmesg | tail -n 20", "r");

	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, what))
			found = true;
	pclose(f);
	return found;
}

int main(void)
{
	char *mods[16], path[256], name[64];
	int n, i, khv, kvm, kvm_vm, khv_vm, fd;
	bool loaded = true;

	if (khv_is_oracle())
		tap_skip_all("about khv next to stock KVM");
	if (strcmp(khv_lane(), "svm") && strcmp(khv_lane(), "debug"))
		tap_skip_all("SVM lanes only");
	n = stock_modules(mods, 16);
	if (!n)
		tap_skip_all("no stock KVM modules in " STOCK);

	tap_plan(7);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), STOCK "/%s", mods[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			loaded = false;
		close(fd);
	}
	if (!tap_ok(loaded, "stock KVM loaded next to khv"))
		tap_bail("cannot load stock KVM");
	khv = khv_open_dev();
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	kvm_vm = khv_ioctl(kvm, KVM_CREATE_VM, 0);
	tap_ok(kvm_vm >= 0, "a KVM VM exists (%d)", kvm_vm);
	EXPECT_EQ(khv_ioctl(khv, KVM_CREATE_VM, 0), -EBUSY,
		  "khv's KVM_CREATE_VM meanwhile: EBUSY");
	tap_ok(dmesg_has("already in use"), "dmesg says the hardware is in use");
	close(kvm_vm);

	khv_vm = khv_ioctl(khv, KVM_CREATE_VM, 0);
	tap_ok(khv_vm >= 0, "once KVM's VM is gone, khv creates one (%d)", khv_vm);
	kvm_vm = khv_ioctl(kvm, KVM_CREATE_VM, 0);
	tap_ok(kvm_vm < 0, "while khv's VM exists, KVM cannot create one (%d)", kvm_vm);
	if (kvm_vm >= 0)
		close(kvm_vm);
	close(khv_vm);
	kvm_vm = khv_ioctl(kvm, KVM_CREATE_VM, 0);
	tap_ok(kvm_vm >= 0, "after khv's last VM, KVM creates one again (%d)", kvm_vm);
	close(kvm_vm);
	close(kvm);
	close(khv);

	for (i = n - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "%s", strchr(mods[i], '-') + 1);
		*strstr(name, ".ko") = 0;
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (syscall(SYS_delete_module, name, O_NONBLOCK))
			tap_diag("rmmod %s: %s", name, strerror(errno));
		free(mods[i]);
	}
	return tap_finish();
}
