#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The packaging lane: checks khv's distro packaging on this machine, no
# emulator (Documentation/packaging.md, Documentation/testing.md).
#
#   tests/packaging/run.sh LOG
#
# Each check is reported as "KHV-CHECK <name> ok|fail [detail]" between
# "KHV-BEGIN lane=packaging" and "KHV-END", on stdout and in LOG, for
# tests/harness.py; its full output goes to tests/out/packaging/<name>.log.
#
# It installs and removes the khv-dkms package (dpkg -i / -r / -P), so it
# needs root (or sudo) and refuses to run where khv is already installed by
# a package or registered with DKMS: it leaves the machine as it found it,
# also when a check fails or it is interrupted.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
log=${1:?usage: $0 LOG}
work=$top/tests/out/packaging
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export PATH=$PATH:/usr/sbin:/sbin
udev_test=$top/tests/packaging/udev-test.sh

# dpkg and DKMS state is the machine's: one packaging lane at a time.
exec 8>"${TMPDIR:-/tmp}/khv-packaging-lane.lock"
flock 8

rm -rf "$work"
mkdir -p "$work"
: >"$log"
say() { echo "$*" | tee -a "$log"; }

# check NAME FUNCTION [ARGS]: runs FUNCTION in a subshell, its output to
# <NAME>.log; the last line it prints is the detail on failure.
check() {
	local name=$1 rc
	shift
	("$@") >"$work/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		say "KHV-CHECK $name ok"
	else
		say "KHV-CHECK $name fail $(grep -v '^$' "$work/$name.log" | tail -n 1)"
	fi
	return $rc
}
fail() { echo "$*"; exit 1; }

# The kernel the lane builds for: the newest Debian kernel whose headers
# are installed (as tests/run.sh picks for the svm and vmx lanes), never
# `uname -r`.
kver=
for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
	v=${d#/usr/src/linux-headers-}
	if [ -e "/lib/modules/$v/build/Makefile" ]; then
		kver=$v
		break
	fi
done
ver=$("$top/scripts/version-check.sh" 2>/dev/null)
pkg=khv-dkms
deb=$work/deb/${pkg}_${ver}_all.deb

say "KHV-BEGIN lane=packaging kernel-headers=${kver:-none} version=${ver:-?}"

# --- state we must not clobber, and must restore ----------------------------
pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null; }
preexisting=
case $(pkg_status) in
"" | not-installed) ;;
*) preexisting="package $pkg is $(pkg_status)" ;;
esac
[ ! -e /var/lib/dkms/khv ] || preexisting="/var/lib/dkms/khv exists"
[ ! -e "/usr/src/khv-$ver" ] || preexisting="/usr/src/khv-$ver exists"
# DKMS creates a MOK key pair the first time it signs (see
# Documentation/packaging.md): one created by this lane is removed again.
mok_new=
[ -e /var/lib/dkms/mok.key ] || mok_new=1

cleanup() {
	trap '' INT TERM HUP
	if [ -z "$preexisting" ]; then
		case $(pkg_status) in
		"" | not-installed) ;;
		*) $SUDO dpkg -P "$pkg" >>"$work/cleanup.log" 2>&1 ;;
		esac
		if [ -e /var/lib/dkms/khv ]; then
			$SUDO dkms remove -m khv -v "$ver" --all >>"$work/cleanup.log" 2>&1
		fi
	fi
	if [ -n "$mok_new" ]; then
		$SUDO rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the checks --------------------------------------------------------------

t_version() {
	"$top/scripts/version-check.sh"
}

# dkms add + build of dkms.conf in private DKMS trees, for $kver.
t_dkms_build() {
	[ -n "$kver" ] || fail "no Debian kernel headers installed"
	"$top/scripts/dkms-check.sh" "$kver" "$work/dkms"
}

# The metadata of one DKMS-built module.
t_modinfo() { # module
	local ko=$work/dkms/modules/$1.ko v p bad=0
	[ -f "$ko" ] || fail "$1.ko was not built"
	/sbin/modinfo "$ko"
	for f in description author; do
		[ -n "$(/sbin/modinfo -F $f "$ko")" ] || { echo "$1: no MODULE_${f^^}"; bad=1; }
	done
	[ "$(/sbin/modinfo -F license "$ko")" = GPL ] || { echo "$1: license is not GPL"; bad=1; }
	v=$(/sbin/modinfo -F version "$ko")
	[ "$v" = "$ver" ] || { echo "$1: MODULE_VERSION is '$v', the package is $ver"; bad=1; }
	# "name:description (type)": every parameter has a description.
	while IFS= read -r p; do
		case $p in
		*:?*) ;;
		*) echo "$1: parameter without MODULE_PARM_DESC: $p"; bad=1 ;;
		esac
	done < <(/sbin/modinfo -F parm "$ko" | sed 's/ *([a-z]*)$//')
	return $bad
}

# make sign with a throwaway key, twice: one signature by that key remains
# (the DKMS signature the modules came with is replaced).
t_make_sign() {
	local k=$work/sign m n s
	mkdir -p "$k"
	openssl req -new -x509 -nodes -days 1 -subj "/CN=khv packaging lane" \
		-newkey rsa:2048 -keyout "$k/key.pem" -out "$k/cert.pem" 2>&1 | tail -n 2
	cp "$work"/dkms/modules/*.ko "$k/" || fail "no DKMS-built modules"
	for n in 1 2; do
		make -s -C "$top" sign KDIR="/usr/src/linux-headers-$kver" \
			KEY="$k/key.pem" CERT="$k/cert.pem" \
			MODULES="$(echo "$k"/*.ko)" || fail "make sign failed"
	done
	for m in "$k"/*.ko; do
		s=$(/sbin/modinfo -F signer "$m")
		[ "$s" = "khv packaging lane" ] || fail "$(basename "$m"): signer '$s'"
		s=$(/sbin/modinfo -F sig_hashalgo "$m")
		[ "$s" = sha256 ] || fail "$(basename "$m"): hash '$s'"
		n=$(grep -a -o '~Module signature appended~' "$m" | wc -l)
		[ "$n" = 1 ] || fail "$(basename "$m"): $n signatures"
	done
	echo "signed: $(ls "$k"/*.ko | xargs -n1 basename | tr '\n' ' ')"
}

t_deb_build() {
	make -s -C "$top" deb DEB_OUT="$work/deb" || fail "make deb failed"
	[ -f "$deb" ] || fail "no $deb"
}

t_deb_contents() {
	local c bad=0 f
	[ -f "$deb" ] || fail "no package"
	dpkg-deb -I "$deb"
	c=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
	echo "$c"
	for f in usr/src/khv-$ver/dkms.conf usr/src/khv-$ver/Kbuild \
		usr/src/khv-$ver/include/khv/version.h usr/src/khv-$ver/virt/main.c \
		usr/src/khv-$ver/arch/x86/svm/svm.c usr/src/khv-$ver/arch/x86/vmx/vmx.c \
		lib/udev/rules.d/60-khv.rules usr/share/doc/$pkg/copyright \
		usr/share/doc/$pkg/packaging.md; do
		grep -q -x -E "\./$f(\.gz)?" <<<"$c" || { echo "missing: /$f"; bad=1; }
	done
	if grep -E '\.(o|ko|cmd|mod)$' <<<"$c"; then
		echo "build products in the package"
		bad=1
	fi
	dpkg-deb -f "$deb" Depends | grep -q dkms || { echo "no dependency on dkms"; bad=1; }
	mkdir -p "$work/x"
	dpkg-deb -x "$deb" "$work/x"
	cmp "$work/x/usr/src/khv-$ver/dkms.conf" "$top/dkms.conf" || { echo "dkms.conf differs"; bad=1; }
	cmp "$work/x/lib/udev/rules.d/60-khv.rules" "$top/udev/60-khv.rules" || { echo "udev rule differs"; bad=1; }
	return $bad
}

# Every lintian tag on the source and binary packages must be explained in
# Documentation/packaging.md (as `tag-name`).
t_lintian() {
	local changes=$work/deb/khv_${ver}_amd64.changes tags t bad=0
	[ -f "$changes" ] || fail "no $changes"
	lintian --display-info --display-experimental --pedantic --tag-display-limit 0 \
		"$changes" | tee "$work/lintian.txt"
	tags=$(sed -n 's/^[EWIPXOC]: [^ ]*\( [a-z]*\)\?: \([a-z0-9][a-z0-9+.-]*\).*/\2/p' \
		"$work/lintian.txt" | sort -u)
	for t in $tags; do
		grep -q -F "\`$t\`" "$top/Documentation/packaging.md" ||
			{ echo "lintian tag not explained in Documentation/packaging.md: $t"; bad=1; }
	done
	[ $bad = 0 ] && echo "lintian: $(echo $tags | wc -w) tag(s), all explained"
	return $bad
}

installed() { [ "$(pkg_status)" = installed ]; }

t_dpkg_install() {
	[ -z "$preexisting" ] || fail "not run: $preexisting"
	[ -f "$deb" ] || fail "no package"
	$SUDO dpkg -i "$deb" || fail "dpkg -i failed"
	installed || fail "status after dpkg -i: $(pkg_status)"
	dkms_installed_for "$kver"
}

dkms_installed_for() { # kver
	local m p
	dkms status -m khv -v "$ver" -k "$1"
	dkms status -m khv -v "$ver" -k "$1" | grep -q ': installed' ||
		fail "DKMS did not install khv $ver for $1"
	for m in khv khv-svm khv-vmx; do
		p=$(/sbin/modinfo -k "$1" -n "$m" 2>/dev/null) || fail "modinfo -k $1 $m: not found"
		case $p in
		/lib/modules/"$1"/updates/dkms/*) ;;
		*) fail "$m resolves to $p, not DKMS's" ;;
		esac
	done
	# This package's modules (the backends' versions are modinfo-*'s).
	p=$(/sbin/modinfo -k "$1" -n khv)
	[ "$(/sbin/modinfo -F version "$p")" = "$ver" ] || fail "$p: not version $ver"

	# What `modprobe khv-svm` would load for that kernel.
	/sbin/modprobe -S "$1" --show-depends khv-svm
	/sbin/modprobe -S "$1" --show-depends khv-svm | grep -q 'updates/dkms/khv\.ko' ||
		fail "modprobe khv-svm would not load khv.ko first"
}

# The installed udev rule, run by udevadm on a stand-in for the device.
t_udev_khv() {
	installed || fail "not run: package not installed"
	[ -f /lib/udev/rules.d/60-khv.rules ] || fail "rule not installed"
	$SUDO "$udev_test" khv 123 root kvm 0660
}

# The /dev/kvm alias is named kvm: udev gives it /dev/kvm's own policy.
t_udev_kvm_alias() {
	installed || fail "not run: package not installed"
	$SUDO "$udev_test" kvm 232 root kvm 0660
}

# A new kernel: what its package runs (/etc/kernel/postinst.d/dkms)
# builds and installs khv for it. Simulated by taking khv away from $kver.
t_kernel_hook() {
	installed || fail "not run: package not installed"
	$SUDO dkms uninstall -m khv -v "$ver" -k "$kver" || fail "dkms uninstall failed"
	$SUDO dkms unbuild -m khv -v "$ver" -k "$kver" || fail "dkms unbuild failed"
	if dkms status -m khv -v "$ver" -k "$kver" | grep -q 'installed\|built'; then
		fail "khv still built for $kver"
	fi
	$SUDO /etc/kernel/postinst.d/dkms "$kver" || fail "the kernel postinst hook failed"
	dkms_installed_for "$kver"
}

t_dpkg_remove() {
	local files f m bad=0
	installed || fail "not run: package not installed"
	files=$(dpkg -L "$pkg")
	$SUDO dpkg -r "$pkg" || fail "dpkg -r failed"
	echo "status after dpkg -r: $(pkg_status)"
	while IFS= read -r f; do
		[ -f "$f" ] && { echo "left behind: $f"; bad=1; }
	done <<<"$files"
	[ ! -e "/usr/src/khv-$ver" ] || { echo "left behind: /usr/src/khv-$ver"; bad=1; }
	[ ! -e /var/lib/dkms/khv ] || { echo "left behind: /var/lib/dkms/khv"; bad=1; }
	for m in $(find /lib/modules/*/updates -name 'khv*.ko*' 2>/dev/null); do
		echo "left behind: $m"
		bad=1
	done
	if /sbin/modinfo -k "$kver" -n khv >/dev/null 2>&1; then
		echo "modinfo still finds khv for $kver (depmod not rerun?)"
		bad=1
	fi
	$SUDO dpkg -P "$pkg" || { echo "dpkg -P failed"; bad=1; }
	case $(pkg_status) in
	"" | not-installed) ;;
	*) echo "status after dpkg -P: $(pkg_status)"; bad=1 ;;
	esac
	return $bad
}

check version-consistent t_version
check dkms-build t_dkms_build
for m in khv khv-svm khv-vmx; do
	check "modinfo-$m" t_modinfo "$m"
done
check make-sign t_make_sign
check deb-build t_deb_build
check deb-contents t_deb_contents
check lintian t_lintian
check dpkg-install t_dpkg_install
check udev-khv t_udev_khv
check udev-kvm-alias t_udev_kvm_alias
check dkms-kernel-hook t_kernel_hook
check dpkg-remove t_dpkg_remove

say "KHV-END"
exit 0
