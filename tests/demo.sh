#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: the main job. Boots an emulated host with AMD-V (QEMU TCG,
# -cpu max), loads khv in it, and runs a guest on khv; the guest's output
# and the host's console appear on the terminal, then a one-line summary.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/tests/out
"$top/scripts/install-deps.sh" || exit 1
mkdir -p "$out"

kver=
for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
	v=${d#/usr/src/linux-headers-}
	if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
		kver=$v
		break
	fi
done
[ -n "$kver" ] || { echo "demo: no Debian kernel with headers" >&2; exit 1; }

start=$SECONDS
b=$out/build-demo
rm -rf "$b"
mkdir -p "$b"
(cd "$top" && cp -a Kbuild Makefile include virt arch "$b/")
echo "demo: building khv against /usr/src/linux-headers-$kver"
make -s -C "/usr/src/linux-headers-$kver" M="$b" modules >"$b.log" 2>&1 || { cat "$b.log"; exit 1; }
gcc -O2 -Wall -static -o "$out/khv_demo" "$top/tests/demo/khv_demo.c" || exit 1
make -s -C "$top/tests/selftests" >/dev/null || exit 1
KHV_DEMO_BIN=$out/khv_demo "$top/tests/lanes/mkinitramfs.sh" "$out/initrd-demo.gz" svm \
	"/lib/modules/$kver/kernel" "$b" "$top/tests/selftests" none || exit 1

log=$out/serial-demo.log
: >"$log"
echo "demo: booting Debian's $kver under QEMU (AMD-V with nested paging emulated)"
"$top/tests/lanes/boot.sh" svm "/boot/vmlinuz-$kver" "$out/initrd-demo.gz" "$log" 300 quiet &
boot=$!
# Show the emulated host's console as it comes.
tail -n +1 -f "$log" --pid=$boot 2>/dev/null | grep --line-buffered -v '^KHV-\(BEGIN\|DEMO\)' &
show=$!
wait $boot
rc=$?
wait $show
if grep -q KHV-DEMO-OK "$log"; then
	echo "demo: a guest ran on khv in the emulated host; $((SECONDS - start)) s in all (build, boot, run)"
	exit 0
fi
echo "demo: FAILED (emulator exit $rc); console log in ${log#"$top"/}"
exit 1
