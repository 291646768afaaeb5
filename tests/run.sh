#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# khv's test runner (`make test`): builds khv and its selftests, boots each
# lane's emulated host, runs the selftests there against stock KVM and khv,
# and judges the serial log (tests/harness.py). The packaging lane runs on
# this machine instead (tests/packaging/run.sh).
#
#   tests/run.sh [--lane svm|vmx|debug|packaging]... [--tests 'GLOB ...']
#
# The last line printed is "N passed, N failed, N skipped"; the exit status
# is non-zero on any failure. Logs and build products go to tests/out/.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/tests/out
# Two runs at once (several people on one machine) must not share build
# directories and serial logs: the second one gets its own directory.
mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
	out=$top/tests/out/run-$$
	mkdir -p "$out"
	echo "run.sh: another run holds tests/out; this one uses $out" >&2
fi
lanes=()
glob='*'
while [ $# -gt 0 ]; do
	case $1 in
	--lane) lanes+=("$2"); shift 2 ;;
	--tests) glob=$2; shift 2 ;;
	*) echo "usage: $0 [--lane svm|vmx|debug|packaging] [--tests GLOB]" >&2; exit 2 ;;
	esac
done
[ ${#lanes[@]} -gt 0 ] || lanes=(svm vmx debug packaging)

"$top/scripts/install-deps.sh" || exit 1

# Per-lane wall-clock limits (seconds) for the whole emulated-host run.
declare -A lane_timeout=([svm]=1200 [vmx]=2700 [debug]=1500)

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

# The debug lane's kernel enforces module signatures: sign khv's modules
# with that build's own key (`make sign`), and make the copies of khv.ko the
# emulated host must refuse (tests/initramfs/init): unsigned, signed and
# then changed, signed with a key the kernel does not trust.
sign_for_debug() { # build-dir kernel-tree
	local b=$1 tree=$2 s=$1/sigtest mods
	mkdir -p "$s"
	cp "$b/khv.ko" "$s/khv-unsigned.ko"
	mods=$(ls "$b"/*.ko "$b"/kunit/*.ko 2>/dev/null | tr "\n" " ")
	make -s -C "$top" sign KDIR="$tree" KEY="$tree/certs/signing_key.pem" \
		CERT="$tree/certs/signing_key.x509" MODULES="$mods" >"$b.sign.log" 2>&1 || {
		cat "$b.sign.log" >&2
		return 1
	}
	cp "$b/khv.ko" "$s/khv-tampered.ko"
	python3 -c 'import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0xff	# well before the appended signature
open(p, "wb").write(d)' "$s/khv-tampered.ko" || return 1
	openssl req -new -x509 -nodes -days 1 -subj "/CN=not trusted by the debug kernel" \
		-newkey rsa:2048 -keyout "$b/other.pem" -out "$b/other.x509" >/dev/null 2>&1 || return 1
	cp "$s/khv-unsigned.ko" "$s/khv-otherkey.ko"
	make -s -C "$top" sign KDIR="$tree" KEY="$b/other.pem" CERT="$b/other.x509" \
		MODULES="$s/khv-otherkey.ko" >>"$b.sign.log" 2>&1 || return 1
	rm -f "$b/other.pem" "$b/other.x509"
}

mkdir -p "$out"
jsons=()
if [[ " ${lanes[*]} " =~ \ (svm|vmx|debug)\  ]]; then
	echo "khv: building selftests"
	make -s -C "$top/tests/selftests" >/dev/null || { echo "selftest build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

fail_lane() { # lane why
	local j=$out/results-$1.json
	printf '[{"lane": "%s", "item": "lane-complete", "kvm": "-", "khv": "-", "verdict": "FAIL", "detail": "%s"}]\n' \
		"$1" "$2" >"$j"
	echo "== lane $1 ==" && echo "  FAIL: $2"
}

# One lane, start to verdict: results in $out/results-<lane>.json.
run_lane() { # lane
	local lane=$1 expect=() log rc j kver kdir kernel moddir tag kunit tree b initrd start
	rm -f "$out/results-$lane.json"
	case $lane in
	packaging)
		echo "khv: lane packaging: DKMS, make deb, lintian, dpkg -i/-r on this machine"
		log=$out/packaging.log
		"$top/tests/packaging/run.sh" "$log" | sed 's/^/  /'
		rc=${PIPESTATUS[0]}
		j=$out/results-packaging.json
		python3 "$top/tests/harness.py" lane packaging "$log" \
			--boot-rc "$rc" --json "$j"
		return
		;;
	svm|vmx)
		kver=$(debian_kver) || { fail_lane "$lane" "no Debian kernel with headers"; return; }
		kdir=/usr/src/linux-headers-$kver
		kernel=/boot/vmlinuz-$kver
		moddir=/lib/modules/$kver/kernel
		tag=$lane-$kver
		kunit=
		;;
	debug)
		echo "khv: debug kernel (built once, then cached)"
		tree=$("$top/tests/lanes/debug-kernel.sh" | tail -n 1) || { fail_lane debug "debug kernel build failed"; return; }
		kdir=$tree
		kernel=$tree/arch/x86/boot/bzImage
		moddir=$tree/modinst	# signed by modules_install
		tag=debug
		kunit=--kunit
		expect=(sig-enforced sig-unsigned-refused sig-tampered-refused
			sig-otherkey-refused sig-signed-loads)
		;;
	*)
		echo "unknown lane $lane" >&2
		exit 2
		;;
	esac
	echo "khv: lane $lane: building khv against $kdir"
	b=$(build_khv "$kdir" "$tag") || { fail_lane "$lane" "khv build failed"; return; }
	if [ "$lane" = debug ]; then
		sign_for_debug "$b" "$tree" || { fail_lane debug "signing khv failed"; return; }
	fi
	if [ "$lane" != vmx ]; then
		expect+=(kvm-alias-off kvm-alias-khv-first kvm-alias-then-kvm kvm-alias-reclaim
			kvm-alias-kvm-first kvm-alias-kvm-gone kvm-alias-khv-gone)
	fi
	initrd=$out/initrd-$lane.gz
	"$top/tests/lanes/mkinitramfs.sh" "$initrd" "$lane" "$moddir" "$b" \
		"$top/tests/selftests" "$glob" || { fail_lane "$lane" "initramfs build failed"; return; }
	log=$out/serial-$lane.log
	echo "khv: lane $lane: booting the emulated host (log: ${log#"$top"/})"
	start=$SECONDS
	"$top/tests/lanes/boot.sh" "$lane" "$kernel" "$initrd" "$log" "${lane_timeout[$lane]}" "quiet"
	rc=$?
	echo "khv: lane $lane: emulator exit $rc after $((SECONDS - start)) s"
	j=$out/results-$lane.json
	python3 "$top/tests/harness.py" lane "$lane" "$log" --boot-rc "$rc" \
		--tests-list "$top/tests/selftests/tests.list" --glob "$glob" $kunit \
		"${expect[@]/#/--expect-check=}" --json "$j"
}

# The VMX lane (Bochs: one host core, the slowest lane by far) runs beside
# the others when there are others; its report is printed after theirs.
vmx_bg=
for lane in "${lanes[@]}"; do
	if [ "$lane" = vmx ] && [ ${#lanes[@]} -gt 1 ]; then
		echo "khv: lane vmx: running in the background (report at the end)"
		run_lane vmx >"$out/lane-vmx.out" 2>&1 &
		vmx_bg=$!
	fi
done
for lane in "${lanes[@]}"; do
	[ "$lane" = vmx ] && [ -n "$vmx_bg" ] && continue
	run_lane "$lane"
done
if [ -n "$vmx_bg" ]; then
	wait "$vmx_bg"
	cat "$out/lane-vmx.out"
fi
jsons=()
for lane in "${lanes[@]}"; do
	jsons+=("$out/results-$lane.json")
done

python3 "$top/tests/harness.py" summary "${jsons[@]}"
