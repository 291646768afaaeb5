#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make dkms-check`: `dkms add` + `dkms build` of this tree's dkms.conf for
# one kernel, in private DKMS trees (nothing is installed, /var/lib/dkms
# and /usr/src are not touched), then checks what DKMS built.
#
#   scripts/dkms-check.sh [KVER] [OUTDIR]
#
# KVER defaults to the newest kernel with installed Debian headers
# (/usr/src/linux-headers-*-amd64 with a /lib/modules/<ver>/build link),
# not `uname -r`: the machine khv is developed on runs a kernel with no
# headers. The built modules are left in OUTDIR (default out/dkms) for
# inspection. Prints "dkms-check: ok ..." and exits 0 when all three
# modules were built for KVER.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kver=${1:-}
out=${2:-$top/out/dkms}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

command -v dkms >/dev/null || { echo "dkms-check: dkms not found; run 'make deps'" >&2; exit 1; }
if [ -z "$kver" ]; then
	for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
		v=${d#/usr/src/linux-headers-}
		if [ -e "/lib/modules/$v/build/Makefile" ]; then
			kver=$v
			break
		fi
	done
	[ -n "$kver" ] || { echo "dkms-check: no Debian kernel headers installed" >&2; exit 1; }
fi
ver=$("$top/scripts/version-check.sh")

rm -rf "$out"
src=$out/src/khv-$ver
mkdir -p "$src" "$out/tree" "$out/modules"
# What the package ships in /usr/src/khv-<version> (debian/rules).
(cd "$top" && cp -a Kbuild dkms.conf include virt arch "$src/")
find "$src" -type f ! -name '*.[chS]' ! -name Kbuild ! -name dkms.conf -delete

# DKMS signs what it builds with /var/lib/dkms/mok.key, which it creates
# when missing (Documentation/packaging.md); a key pair created just for
# this check is removed again.
mok_new=
[ -e /var/lib/dkms/mok.key ] || [ ! -w /var/lib/dkms ] || mok_new=1
cleanup() {
	[ -z "$mok_new" ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
}
trap cleanup EXIT

t="--sourcetree $out/src --dkmstree $out/tree"
# shellcheck disable=SC2086
dkms add $t -m khv -v "$ver" >"$out/dkms.log" 2>&1 &&
	dkms build $t -m khv -v "$ver" -k "$kver" >>"$out/dkms.log" 2>&1 || {
	cat "$out/dkms.log" >&2
	for l in "$out"/tree/khv/"$ver"/build/make.log; do [ -f "$l" ] && tail -n 30 "$l" >&2; done
	echo "dkms-check: dkms build of khv $ver for $kver failed" >&2
	exit 1
}
bad=0
for m in khv khv-svm khv-vmx; do
	ko=$(find "$out/tree/khv/$ver/$kver" -name "$m.ko*" | head -n 1)
	if [ -z "$ko" ]; then
		echo "dkms-check: $m.ko not built" >&2
		bad=1
		continue
	fi
	cp "$ko" "$out/modules/"
	vm=$(/sbin/modinfo -F vermagic "$ko")
	case "$vm" in
	"$kver "*) ;;
	*) echo "dkms-check: $m.ko has vermagic '$vm', not $kver" >&2; bad=1 ;;
	esac
done
[ $bad = 0 ] || exit 1
echo "dkms-check: ok: khv $ver built by DKMS for $kver (modules in $out/modules)"
