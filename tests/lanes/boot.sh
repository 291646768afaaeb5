#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots a kernel and initramfs in one of the emulated hosts khv is tested in
# and waits for the emulator to end.
#
#   tests/lanes/boot.sh LANE KERNEL INITRD LOG TIMEOUT_SECONDS [EXTRA_CMDLINE]
#
# LANE is one of
#   svm    QEMU TCG, -cpu max (AMD with SVM + NPT), 2 vCPUs, 1 GiB
#   debug  the same with 2 GiB (for the KASAN kernel)
#   vmx    Bochs 2.7, corei7_haswell_4770 (VT-x + EPT), 2 CPUs, 1 GiB
#
# The guest's serial console (ttyS0) is written to LOG; the kernel command
# line is "console=ttyS0 panic=-1 oops=panic" followed by EXTRA_CMDLINE
# (the vmx lane adds "reboot=t", see below). QEMU_EXTRA, if set, is split
# into words and appended to the QEMU command line (svm/debug only).
# TIMEOUT_SECONDS bounds the emulator run (not the ISO build).
#
# Exit status:
#   0    the emulator ended by itself: the guest powered off, rebooted or
#        panicked (panic=-1 makes a panic a reboot, and a reboot ends the
#        emulator); the caller decides from LOG what happened
#   124  the timeout expired and the emulator was stopped
#   2    bad usage or a setup error
#   1    (or the emulator's own status) the emulator failed
#   128+N  this script was killed by signal N
# Diagnostics go to stderr; nothing is printed on stdout.
#
# No emulator process outlives this script, also when it is stopped by
# SIGINT, SIGTERM or SIGHUP: each emulator runs in its own session (so its
# process group can be signalled as a whole) and the EXIT trap tears it down.
# Only SIGKILL of this script can leave it behind.
#
# Needs bash >= 5.1 (wait -n -p), Linux /proc, procps (pgrep), and the
# packages listed in PLATFORM.md.
set -euo pipefail
set +m	# no job control: background jobs stay in our process group

readonly isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
readonly ldlinux_c32=/usr/lib/syslinux/modules/bios/ldlinux.c32
readonly bochs_bios=/usr/share/bochs/BIOS-bochs-latest
readonly bochs_vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
readonly base_cmdline="console=ttyS0 panic=-1 oops=panic"
# Seconds an emulator gets to exit after a polite stop request, and stray
# group members (Xvfb) after the emulator itself is gone, before SIGKILL.
readonly stop_grace=10 straggler_grace=5

prog=${0##*/}

die()
{
	echo "$prog: $*" >&2
	exit 2
}

usage()
{
	echo "usage: $prog svm|debug|vmx KERNEL INITRD LOG TIMEOUT_SECONDS [EXTRA_KERNEL_CMDLINE]" >&2
	exit 2
}

if [ $# -lt 5 ] || [ $# -gt 6 ]; then
	usage
fi
lane=$1 kernel=$2 initrd=$3 log=$4 timeout=$5 extra=${6:-}

case $lane in
svm|debug) need=(qemu-system-x86_64) ;;
vmx) need=(bochs bochs-bin xvfb-run Xvfb xauth genisoimage) ;;
*) usage ;;
esac
for tool in "${need[@]}" pgrep setsid; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT_SECONDS must be a positive integer: '$timeout'"
for f in "$kernel" "$initrd"; do
	if [ ! -f "$f" ] || [ ! -r "$f" ]; then
		die "cannot read '$f'"
	fi
done
: >"$log" 2>/dev/null || die "cannot write log '$log'"
# The emulator runs in the temporary directory: absolute names only.
kernel=$(realpath -- "$kernel") initrd=$(realpath -- "$initrd") log=$(realpath -- "$log")

emu_pid=	# main emulator process; also its session and process group id
emu_reaped=	# set once its exit status is in emu_status
tmp=

# True while the emulator's main process runs (a zombie does not count).
emu_running()
{
	local stat

	{ read -r stat <"/proc/$emu_pid/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# True while any process is left in the emulator's process group.
group_alive()
{
	kill -0 -- "-$emu_pid" 2>/dev/null
}

# poll_while CMD SECONDS: wait until CMD fails or SECONDS pass; true if the
# former.
poll_while()
{
	local i

	for ((i = 0; i < $2 * 5; i++)); do
		"$1" || return 0
		sleep 0.2
	done
	! "$1"
}

# Ask the emulator to stop, so that it flushes what it has buffered.
# QEMU exits cleanly on SIGTERM. Bochs (built with its debugger) stops the
# simulation on SIGINT and returns to the debugger, which then reads the
# "quit" that follows "continue" in dbg.rc and exits through exit(), which
# flushes its buffered serial output file; it dies on SIGTERM without
# flushing. While xvfb-run is still starting Xvfb there is no Bochs yet.
request_stop()
{
	local pids

	if [ "$lane" = vmx ]; then
		pids=$(pgrep -g "$emu_pid" -x bochs-bin) || pids=
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086 # one word per pid
			kill -INT $pids 2>/dev/null || :
			return
		fi
		kill -TERM -- "-$emu_pid" 2>/dev/null || :
	else
		kill -TERM "$emu_pid" 2>/dev/null || :
	fi
}

# Stop the emulator if it still runs, reap it, and make sure nothing of its
# process group (e.g. an Xvfb that xvfb-run only sent SIGTERM) survives.
# Sets emu_status to the main process's exit status.
emu_status=0
stop_emulator()
{
	[ -n "$emu_pid" ] || return 0
	if emu_running; then
		request_stop
		poll_while emu_running "$stop_grace" ||
			kill -KILL -- "-$emu_pid" 2>/dev/null || :
	fi
	if [ -z "$emu_reaped" ]; then
		emu_status=0
		wait "$emu_pid" 2>/dev/null || emu_status=$?
	fi
	if group_alive; then
		kill -TERM -- "-$emu_pid" 2>/dev/null || :
		poll_while group_alive "$straggler_grace" ||
			kill -KILL -- "-$emu_pid" 2>/dev/null || :
	fi
	emu_pid=
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	trap '' INT TERM HUP
	stop_emulator
	[ -z "$timer_pid" ] || kill "$timer_pid" 2>/dev/null || :
	[ -z "$tmp" ] || rm -rf -- "$tmp"
}

timer_pid=
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/khv-boot.XXXXXX") || die "cannot create a temporary directory"

# Prints the tail of the emulator's own output, for a failure report.
show_emu_output()
{
	echo "$prog: $lane emulator failed (status $emu_status); its output ends with:" >&2
	tail -n 20 "$tmp/emu.out" >&2 || :
}

# ---------------------------------------------------------------- svm, debug
#
# QEMU: -no-reboot turns the reboot that panic=-1 asks for into an exit.
# The serial console goes straight to LOG (QEMU does not buffer it); no
# display, no monitor, so the terminal is never touched.
setup_qemu()
{
	local mem=1024 qemu_extra=()

	[ "$lane" = debug ] && mem=2048
	read -r -a qemu_extra <<<"${QEMU_EXTRA:-}"
	emu_cmd=(qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$mem"
		-no-reboot -display none -monitor none -serial "file:$log"
		-kernel "$kernel" -initrd "$initrd"
		-append "$base_cmdline${extra:+ $extra}"
		"${qemu_extra[@]}")
}

# QEMU exits 0 both on guest power-off/reset and on a SIGTERM from anyone;
# only the former is the guest's doing.
qemu_ended_by_itself()
{
	[ "$emu_status" = 0 ] && ! grep -q 'terminating on signal' "$tmp/emu.out"
}

# ---------------------------------------------------------------------- vmx
#
# Bochs cannot load a kernel directly, so the kernel and initramfs go on an
# isolinux CD. Notes on the configuration:
# - count=2: Debian's Bochs 2.7 is built with SMP support and accepts two
#   CPUs with corei7_haswell_4770; Debian's 6.1 kernel brings both up and
#   sees vmx and ept on each. megs: 1024 works as well.
# - Bochs has no -no-reboot, and a reset (keyboard controller, ACPI) boots
#   the CD again, forever. So the kernel is told to reboot by triple fault
#   (reboot=t) and Bochs to treat a triple fault as a fatal panic
#   (reset_on_triple_fault=0, panic: action=fatal) instead of resetting.
#   Only the emulated host is affected: a triple fault in VMX non-root
#   operation is a VM exit as usual.
# - Power-off is also reported by Bochs as a fatal panic; both end Bochs
#   with status 1, so the exit message tells them from real failures.
# - clock: sync=none makes guest time follow the instruction count (ips),
#   so guest-side timings are deterministic.
# - The serial output file is stdio-buffered: see request_stop().
# - The "nogui" and "term" display libraries do not work in Debian's build,
#   hence X on a private Xvfb (xvfb-run -a retries if a display is taken).
setup_bochs()
{
	local iso=$tmp/iso

	mkdir -p "$iso/isolinux"
	cp -- "$isolinux_bin" "$ldlinux_c32" "$iso/isolinux/"
	cp -- "$kernel" "$iso/vmlinuz"
	cp -- "$initrd" "$iso/initrd"
	# SERIAL makes isolinux report on the console too (a failure to load
	# the kernel would otherwise show only on the invisible VGA screen).
	cat >"$iso/isolinux/isolinux.cfg" <<-EOF
		SERIAL 0 115200
		DEFAULT khv
		PROMPT 0
		LABEL khv
		  LINUX /vmlinuz
		  INITRD /initrd
		  APPEND $base_cmdline reboot=t${extra:+ $extra}
	EOF
	genisoimage -quiet -R -o "$tmp/boot.iso" \
		-b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$iso" ||
		die "genisoimage failed"
	rm -rf -- "$iso"

	# LOG is reached through a link so that its name needs no quoting.
	ln -s -- "$log" "$tmp/serial"
	cat >"$tmp/bochsrc" <<-EOF
		megs: 1024
		cpu: model=corei7_haswell_4770, count=2, ips=200000000, reset_on_triple_fault=0
		romimage: file=$bochs_bios
		vgaromimage: file=$bochs_vgabios
		ata0-master: type=cdrom, path="$tmp/boot.iso", status=inserted
		boot: cdrom
		com1: enabled=1, mode=file, dev="$tmp/serial"
		display_library: x
		clock: sync=none, time0=local
		speaker: enabled=0
		sound: driver=dummy
		log: "$tmp/bochs.log"
		panic: action=fatal
	EOF
	printf 'continue\nquit\n' >"$tmp/dbg.rc"
	emu_cmd=(xvfb-run -a bochs -q -f "$tmp/bochsrc" -rc "$tmp/dbg.rc")
}

bochs_ended_by_itself()
{
	grep -q -E 'ACPI control: soft power off|exception with no resolution' "$tmp/emu.out"
}

# ---------------------------------------------------------------------- run

case $lane in
svm|debug) setup_qemu ;;
vmx) setup_bochs ;;
esac

# xvfb-run keeps its Xauthority in a directory of its own under TMPDIR.
# In a session of its own, the emulator is not hit by a terminal's ^C and
# its process group id is its pid (setsid execs in place: a background
# job is no group leader).
(cd "$tmp" && TMPDIR=$tmp exec setsid "${emu_cmd[@]}") </dev/null >"$tmp/emu.out" 2>&1 &
emu_pid=$!
sleep "$timeout" &
timer_pid=$!

ended='' status=0
wait -n -p ended "$emu_pid" "$timer_pid" || status=$?
if [ "$ended" = "$timer_pid" ]; then
	timer_pid=
	stop_emulator
	exit 124
fi
[ "$ended" = "$emu_pid" ] || die "wait failed (status $status)"
emu_status=$status emu_reaped=1
stop_emulator	# takes care of any stray group member
kill "$timer_pid" 2>/dev/null || :
timer_pid=

case $lane in
svm|debug) qemu_ended_by_itself && exit 0 ;;
vmx) bochs_ended_by_itself && exit 0 ;;
esac
show_emu_output
[ "$emu_status" != 0 ] || emu_status=1
exit "$emu_status"
