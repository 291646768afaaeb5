#!/usr/bin/env bash
# Builds the emulated host's initramfs.
#
#   mkinitramfs.sh OUT LANE MODULES_DIR KHV_KO_DIR SELFTEST_DIR TESTS_GLOB
#
# OUT           the initramfs to write (gzip'ed newc cpio)
# LANE          svm | vmx | debug
# MODULES_DIR   where the host kernel's stock modules are (for the oracle):
#               /lib/modules/<ver>/kernel or a built kernel tree
# KHV_KO_DIR    khv.ko, khv-svm.ko, khv-vmx.ko (and kunit/*.ko, if any)
# SELFTEST_DIR  the static selftest binaries and tests.list
# TESTS_GLOB    space-separated shell globs of selftest names to run
set -euo pipefail

out=$1 lane=$2 moddir=$3 khvdir=$4 testdir=$5 glob=${6:-*}
here=$(cd "$(dirname "$0")/.." && pwd)

case $lane in
svm|debug) vendor=svm; stock_vendor=kvm-amd ;;
vmx) vendor=vmx; stock_vendor=kvm-intel ;;
*) echo "mkinitramfs: unknown lane $lane" >&2; exit 2 ;;
esac

root=$(mktemp -d "${TMPDIR:-/tmp}/khv-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,tests,lib/khv/kunit,lib/stock}
cp /bin/busybox "$root/bin/busybox"
cp "$here/initramfs/init" "$root/init"
chmod 755 "$root/init"

# Stock KVM for the oracle, dependencies first (found with modinfo, so the
# same code serves an installed module tree and a freshly built one).
find_mod() { # name -> path
	find "$moddir" -name "$1.ko" -print -quit
}
declare -A seen=()
order=()
add_mod() { # name (dashes or underscores)
	local name=$1 path dep
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	path=$(find_mod "$name")
	[ -n "$path" ] || path=$(find_mod "${name//_/-}")
	[ -n "$path" ] || { echo "mkinitramfs: stock module $name not found in $moddir" >&2; return 1; }
	for dep in $(/sbin/modinfo -F depends "$path" | tr ',' ' '); do
		add_mod "$dep"
	done
	order+=("$path")
}
add_mod "$stock_vendor"
i=10
for p in "${order[@]}"; do
	cp "$p" "$root/lib/stock/$i-$(basename "$p")"
	i=$((i + 1))
done

cp "$khvdir"/khv.ko "$khvdir"/khv-svm.ko "$khvdir"/khv-vmx.ko "$root/lib/khv/"
if compgen -G "$khvdir/kunit/*.ko" >/dev/null; then
	cp "$khvdir"/kunit/*.ko "$root/lib/khv/kunit/"
fi
# Copies of khv.ko for the module-signing checks (debug lane, tests/run.sh).
if compgen -G "$khvdir/sigtest/*.ko" >/dev/null; then
	mkdir -p "$root/lib/khv/sigtest"
	cp "$khvdir"/sigtest/*.ko "$root/lib/khv/sigtest/"
fi
cp "$testdir"/tests.list "$root/tests/"
for t in $(grep -v '^#' "$testdir/tests.list" | awk 'NF { print $1 }'); do
	cp "$testdir/build/$t" "$root/tests/$t"
done

# KHV_DEMO_BIN: build the demo's host instead (runs that program, no tests).
mode=test
if [ -n "${KHV_DEMO_BIN:-}" ]; then
	cp "$KHV_DEMO_BIN" "$root/bin/khv_demo"
	mode=demo
fi

cat > "$root/etc/khv.conf" <<EOC
KHV_LANE=$lane
KHV_MODE=$mode
KHV_VENDOR=$vendor
KHV_TESTS='$glob'
KHV_MODDIR=/lib/khv
KHV_DRAIN=$([ "$lane" = vmx ] && echo 8 || echo 1)
export KHV_LANE KHV_MODDIR
EOC

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$out"
