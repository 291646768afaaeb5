// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backend module loading rules. Runs where khv is loaded (khv.ko and the
 * lane's backend):
 *  - the other vendor's backend refuses to load with -ENODEV;
 *  - the core cannot be unloaded while a backend uses it;
 *  - the backend can be unloaded while only a system fd is open, the open fd
 *    keeps the core loaded, and /dev/khv goes away with the backend;
 *  - the backend loads again afterwards.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/khv_test.h"

static long load_module(const char *name)
{
	char path[512];
	long r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.ko", khv_moddir(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tap_bail("open %s: %s", path, strerror(errno));
	r = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return r < 0 ? -errno : r;
}

static long unload_module(const char *name)
{
	long r = syscall(SYS_delete_module, name, O_NONBLOCK);

	return r < 0 ? -errno : r;
}

int main(void)
{
	const char *lane = khv_lane();
	const char *mine, *mine_mod, *other;
	struct stat st;
	int fd;

	if (khv_is_oracle())
		tap_skip_all("khv's own modules");
	if (!strcmp(lane, "vmx")) {
		mine = "khv-vmx", mine_mod = "khv_vmx", other = "khv-svm";
	} else if (!strcmp(lane, "svm") || !strcmp(lane, "debug")) {
		mine = "khv-svm", mine_mod = "khv_svm", other = "khv-vmx";
	} else {
		tap_skip_all("KHV_LANE unset");
	}

	tap_plan(10);
	EXPECT_EQ(load_module(other), -ENODEV,
		  "%s refuses to load on the %s lane: ENODEV", other, lane);
	EXPECT_EQ(load_module(mine), -EEXIST,
		  "%s loaded twice: EEXIST", mine);
	EXPECT_EQ(unload_module("khv"), -EWOULDBLOCK,
		  "khv cannot be unloaded while %s is loaded", mine);

	fd = khv_open_dev();
	EXPECT_EQ(unload_module(mine_mod), 0,
		  "%s unloads while only a system fd is open", mine);
	tap_ok(stat(khv_dev_path(), &st) != 0 && errno == ENOENT,
	       "%s is gone with the backend", khv_dev_path());
	EXPECT_EQ(khv_ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION,
		  "the open system fd still answers KVM_GET_API_VERSION");
	EXPECT_EQ(unload_module("khv"), -EWOULDBLOCK,
		  "khv cannot be unloaded while a /dev/khv fd is open");
	close(fd);
	EXPECT_EQ(load_module(mine), 0, "%s loads again", mine);
	tap_ok(stat(khv_dev_path(), &st) == 0, "%s is back", khv_dev_path());
	fd = khv_open_dev();
	EXPECT_EQ(khv_ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION,
		  "the new device answers");
	close(fd);
	return tap_finish();
}
