#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs the machine's udev rules (as installed) on a stand-in misc device and
# checks the owner, group and mode udev gives its node.
#
#   tests/packaging/udev-test.sh NAME MINOR OWNER GROUP MODE
#
# No real device is needed and nothing outside is touched: in a private
# mount namespace, tmpfs hides /sys/devices/virtual/misc, /dev and /run;
# the stand-in is a directory with the uevent attributes the kernel would
# give /sys/devices/virtual/misc/NAME, and a node 10:MINOR made mode 0600
# root:root, as devtmpfs would. `udevadm test` then applies the rules'
# permissions to that node (SYSTEMD_DEVICE_VERIFY_SYSFS=0 lets it accept a
# device that is not on sysfs). Needs root.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 NAME MINOR OWNER GROUP MODE" >&2; exit 2; }
name=$1 minor=$2 owner=$3 group=$4 mode=$5

if [ -z "${KHV_UDEV_NS:-}" ]; then
	KHV_UDEV_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

d=/sys/devices/virtual/misc/$name
mount -t tmpfs khv-udev-test /sys/devices/virtual/misc
mount -t tmpfs khv-udev-test /dev
mount -t tmpfs khv-udev-test /run
mkdir "$d"
printf 'MAJOR=10\nMINOR=%s\nDEVNAME=%s\n' "$minor" "$name" >"$d/uevent"
echo "10:$minor" >"$d/dev"
ln -s ../../../../class/misc "$d/subsystem"
mknod -m 0600 "/dev/$name" c 10 "$minor"

SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action=add "$d" 2>&1 |
	grep -v '^Reading rules file' || :
got=$(stat -c '%U %G %a' "/dev/$name")
want="$owner $group ${mode#0}"
echo "/dev/$name: $got"
[ "$got" = "$want" ] || { echo "/dev/$name is '$got', want '$want'"; exit 1; }
