#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# khv's test runner (`make test`): builds khv and its selftests, boots each
# lane's emulated host, runs the selftests there against stock KVM and khv,
# and judges the serial log (tests/harness.py).
#
#   tests/run.sh [--lane svm|vmx|debug]... [--tests 'GLOB ...']
#
# The last line printed is "N passed, N failed, N skipped"; the exit status
# is non-zero on any failure. Logs and build products go to tests/out/.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/tests/out
lanes=()
glob='*'
while [ $# -gt 0 ]; do
	case $1 in
	--lane) lanes+=("$2"); shift 2 ;;
	--tests) glob=$2; shift 2 ;;
	*) echo "usage: $0 [--lane svm|vmx|debug] [--tests GLOB]" >&2; exit 2 ;;
	esac
done
[ ${#lanes[@]} -gt 0 ] || lanes=(svm vmx debug)

"$top/scripts/install-deps.sh" || exit 1

# Per-lane wall-clock limits (seconds) for the whole emulated-host run.
declare -A lane_timeout=([svm]=600 [vmx]=2700 [debug]=900)

# Debian's kernel: the newest installed linux-image with matching headers.
debian_kver() {
	local d v
	for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
		v=${d#/usr/src/linux-headers-}
		if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			return 0
		fi
	done
	return 1
}

# Builds khv in a copy of the sources (so builds against different kernels
# do not clobber each other or the work tree). Prints the build directory.
build_khv() { # kdir tag
	local kdir=$1 b=$out/build-$2
	rm -rf "$b"
	mkdir -p "$b"
	(cd "$top" && cp -a Kbuild Makefile include virt arch "$b/" &&
		mkdir -p "$b/tests" && cp -a tests/kunit "$b/tests/")
	make -s -C "$kdir" M="$b" modules >"$b.log" 2>&1 || {
		cat "$b.log" >&2
		echo "build of khv against $kdir failed" >&2
		return 1
	}
	mkdir -p "$b/kunit"
	if compgen -G "$b/*kunit*.ko" >/dev/null; then
		mv "$b"/*kunit*.ko "$b/kunit/"
	fi
	echo "$b"
}

mkdir -p "$out"
jsons=()
echo "khv: building selftests"
make -s -C "$top/tests/selftests" >/dev/null || { echo "selftest build failed"; echo "0 passed, 1 failed"; exit 1; }

fail_lane() { # lane why
	local j=$out/results-$1.json
	printf '[{"lane": "%s", "item": "lane-complete", "kvm": "-", "khv": "-", "verdict": "FAIL", "detail": "%s"}]\n' \
		"$1" "$2" >"$j"
	echo "== lane $1 ==" && echo "  FAIL: $2"
	jsons+=("$j")
}

for lane in "${lanes[@]}"; do
	case $lane in
	svm|vmx)
		kver=$(debian_kver) || { fail_lane "$lane" "no Debian kernel with headers"; continue; }
		kdir=/usr/src/linux-headers-$kver
		kernel=/boot/vmlinuz-$kver
		moddir=/lib/modules/$kver/kernel
		tag=debian-$kver
		kunit=
		;;
	debug)
		echo "khv: debug kernel (built once, then cached)"
		tree=$("$top/tests/lanes/debug-kernel.sh" | tail -n 1) || { fail_lane debug "debug kernel build failed"; continue; }
		kdir=$tree
		kernel=$tree/arch/x86/boot/bzImage
		moddir=$tree
		tag=debug
		kunit=--kunit
		;;
	*)
		echo "unknown lane $lane" >&2
		exit 2
		;;
	esac
	echo "khv: lane $lane: building khv against $kdir"
	b=$(build_khv "$kdir" "$tag") || { fail_lane "$lane" "khv build failed"; continue; }
	initrd=$out/initrd-$lane.gz
	"$top/tests/lanes/mkinitramfs.sh" "$initrd" "$lane" "$moddir" "$b" \
		"$top/tests/selftests" "$glob" || { fail_lane "$lane" "initramfs build failed"; continue; }
	log=$out/serial-$lane.log
	echo "khv: lane $lane: booting the emulated host (log: ${log#"$top"/})"
	start=$SECONDS
	"$top/tests/lanes/boot.sh" "$lane" "$kernel" "$initrd" "$log" "${lane_timeout[$lane]}" "quiet"
	rc=$?
	echo "khv: lane $lane: emulator exit $rc after $((SECONDS - start)) s"
	j=$out/results-$lane.json
	python3 "$top/tests/harness.py" lane "$lane" "$log" --boot-rc "$rc" \
		--tests-list "$top/tests/selftests/tests.list" --glob "$glob" $kunit --json "$j"
	jsons+=("$j")
done

python3 "$top/tests/harness.py" summary "${jsons[@]}"
