#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make deb`: builds the khv source package (3.0 native) and the khv-dkms
# binary package from the work tree, unsigned, into OUTDIR (default out/deb).
#
#   scripts/mkdeb.sh [OUTDIR]
#
# The package is built in a copy of the tree (OUTDIR/khv-<version>), made of
# the files git knows or would add (tracked and untracked, not ignored: no
# build products), or, outside a git checkout, of the whole tree less
# build products. Needs dpkg-dev, debhelper and dh-dkms (`make deps`).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/out/deb}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

ver=$("$top/scripts/version-check.sh")
for tool in dpkg-buildpackage dh dh_dkms; do
	command -v "$tool" >/dev/null ||
		{ echo "deb: $tool not found; run 'make deps'" >&2; exit 1; }
done

stage=$out/khv-$ver
rm -rf "$out"
mkdir -p "$stage"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		cpio -0 -pdm --quiet "$stage"
else
	tar -cf - --exclude=./out --exclude=./tests/out --exclude='*.o' \
		--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude=Module.symvers \
		--exclude=modules.order --exclude=./tests/selftests/build . |
		tar -xf - -C "$stage"
fi

cd "$stage"
# -us -uc: unsigned (no maintainer key here); -d would skip the check of
# Build-Depends, which we want.
dpkg-buildpackage -us -uc >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
cd "$out"
rm -rf "$stage"
ls -1 "$out"/*.deb "$out"/*.dsc "$out"/*.changes
