// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/khv is a misc character device with mode 0660 (the policy /dev/kvm
 * gets from udev), present while a backend is registered.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/khv_test.h"

int main(void)
{
	struct stat st;

	if (khv_is_oracle())
		tap_skip_all("khv's own device node");
	tap_plan(3);
	if (!tap_ok(stat(khv_dev_path(), &st) == 0, "%s exists", khv_dev_path()))
		tap_bail("stat %s: %s", khv_dev_path(), strerror(errno));
	tap_ok(S_ISCHR(st.st_mode) && major(st.st_rdev) == 10,
	       "it is a misc character device (major %u)", major(st.st_rdev));
	tap_ok((st.st_mode & 07777) == 0660, "mode is 0660 (%04o)",
	       st.st_mode & 07777);
	return tap_finish();
}
