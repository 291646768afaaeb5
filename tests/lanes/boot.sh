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
# The guest's serial console (ttyS0) is written to LOG as it comes; the
# kernel command line is "console=ttyS0 panic=-1 oops=panic" followed by
# EXTRA_CMDLINE. QEMU_EXTRA, if set, is split into words and appended to the
# QEMU command line (svm and debug only). TIMEOUT_SECONDS bounds the
# emulator run (not the ISO build of the vmx lane).
#
# Exit status:
#   0    the emulator ended by itself: the guest powered off or reset
#        (panic=-1 turns a panic into a reset, and a reset ends the run on
#        every lane); the caller tells which from LOG
#   124  the timeout expired and the emulator was stopped
#   2    bad usage or a setup error
#   1    (or the emulator's own status) the emulator failed
#   129, 130, 143  this script was stopped by SIGHUP, SIGINT, SIGTERM
# Diagnostics go to stderr; nothing is printed on stdout.
#
# No emulator process outlives this script, also when it is stopped by a
# signal: the emulator runs in a session of its own, so its whole process
# group can be signalled, and the EXIT trap tears it down. Only SIGKILL of
# this script leaves it behind.
#
# Needs bash >= 5.1 (wait -n -p), Linux /proc, and the packages listed in
# PLATFORM.md.
set -euo pipefail
set +m	# no job control: background jobs stay in our process group

readonly isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
readonly ldlinux_c32=/usr/lib/syslinux/modules/bios/ldlinux.c32
readonly bochs_bios=/usr/share/bochs/BIOS-bochs-latest
readonly bochs_vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
readonly base_cmdline="console=ttyS0 panic=-1 oops=panic"
# Seconds the emulator's process group gets to exit after SIGTERM, before
# SIGKILL (which would leave Xvfb's socket and lock file behind in /tmp).
readonly stop_grace=10

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
for tool in "${need[@]}" setsid; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT_SECONDS must be a positive integer: '$timeout'"
for f in "$kernel" "$initrd"; do
	if [ ! -f "$f" ] || [ ! -r "$f" ]; then
		die "cannot read '$f'"
	fi
done
{ : >"$log"; } 2>/dev/null || die "cannot write log '$log'"
# The emulator runs in the temporary directory: absolute names only.
kernel=$(realpath -- "$kernel") initrd=$(realpath -- "$initrd") log=$(realpath -- "$log")

tmp=
emu_pid=	# main emulator process; also its session and process group id
emu_status=0	# its exit status, once emu_reaped is set
emu_reaped=
tick_pid=	# the one-second sleep the watch loop waits on

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

# Ask the emulator to exit: SIGTERM to its whole process group. QEMU exits
# cleanly on it; Bochs just dies, which loses nothing (see setup_bochs),
# and Xvfb removes its socket and lock file. SIGINT would send Bochs back to
# its debugger and on to the "quit" in dbg.rc, but after a guest reset it
# was seen to ignore SIGINT.
request_stop()
{
	kill -TERM -- "-$emu_pid" 2>/dev/null
	return 0
}

# Stop the emulator if it still runs, reap it, and make sure nothing of its
# process group (e.g. an Xvfb that xvfb-run only sent SIGTERM) survives.
stop_emulator()
{
	[ -n "$emu_pid" ] || return 0
	if emu_running; then
		request_stop
		if ! poll_while emu_running "$stop_grace"; then
			echo "$prog: the $lane emulator ignored SIGTERM; killing it" >&2
			kill -KILL -- "-$emu_pid" 2>/dev/null || :
		fi
	fi
	if [ -z "$emu_reaped" ]; then
		emu_status=0
		wait "$emu_pid" 2>/dev/null || emu_status=$?
		emu_reaped=1
	fi
	if group_alive; then
		kill -TERM -- "-$emu_pid" 2>/dev/null || :
		poll_while group_alive "$stop_grace" ||
			kill -KILL -- "-$emu_pid" 2>/dev/null || :
	fi
	emu_pid=
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	# Best effort, and never stopped half-way: no errexit, no signals.
	set +e
	trap '' INT TERM HUP
	stop_emulator
	[ -z "$tick_pid" ] || kill "$tick_pid" 2>/dev/null
	[ -z "$tmp" ] || rm -rf -- "$tmp"
}

trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/khv-boot.XXXXXX") || die "cannot create a temporary directory"

# ---------------------------------------------------------------- svm, debug
#
# QEMU: -no-reboot turns a guest reset (and so a panic, with panic=-1) into
# an exit. No display, no monitor and no stdio chardev, so the terminal is
# never touched; QEMU writes the serial file unbuffered.
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

# QEMU exits 0 both on a guest power-off or reset and on a SIGTERM from
# anyone; only the former is the guest's doing.
qemu_ended_by_itself()
{
	[ "$emu_status" = 0 ] && ! grep -q 'terminating on signal' "$tmp/emu.out"
}

# ---------------------------------------------------------------------- vmx
#
# Bochs cannot load a kernel directly, so the kernel and initramfs go on an
# isolinux CD. Notes on the configuration:
# - count=2: Debian's Bochs 2.7 is built with SMP support and accepts two
#   CPUs with corei7_haswell_4770; Debian's 6.1 kernel brings both up, with
#   vmx, ept and vpid on each. megs: 1024 works too.
# - clock: sync=none makes guest time follow the instruction count (ips).
# - Bochs writes the serial file unbuffered (one write per byte), so LOG is
#   complete whatever way Bochs ends.
# - Bochs has no -no-reboot: a reset (keyboard controller, ACPI, triple
#   fault) boots the CD again, forever. The watch loop below sees the
#   second "bx_pc_system_c::Reset" in bochs.log (the first one is power-on)
#   and stops Bochs. A debugger breakpoint on the reset vector would do it
#   inside Bochs, but any breakpoint makes it several times slower.
# - panic: action=report. With "fatal" (or the default "ask") a Bochs panic
#   opens an X dialog and waits for a click, forever. Only the guest's ACPI
#   power-off is exempt: it ends Bochs with status 1 and "ACPI control:
#   soft power off". Other panics are passed on to stderr.
# - The binary has its debugger built in: dbg.rc starts the simulation with
#   "continue", and should Bochs ever drop back to the debugger, "quit"
#   ends it instead of a wait for input.
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
		  APPEND $base_cmdline${extra:+ $extra}
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
		cpu: model=corei7_haswell_4770, count=2, ips=200000000
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
		panic: action=report
	EOF
	printf 'continue\nquit\n' >"$tmp/dbg.rc"
	emu_cmd=(xvfb-run -a bochs -q -f "$tmp/bochsrc" -rc "$tmp/dbg.rc")
}

# True once the emulated machine has been reset after power-on.
bochs_guest_reset()
{
	local n

	n=$(grep -c -m 2 -F 'bx_pc_system_c::Reset(' "$tmp/bochs.log" 2>/dev/null) || :
	[ "${n:-0}" -ge 2 ]
}

# After a reset Bochs may also end by itself before the watch loop looks.
# Seen after a kernel panic: the keyboard-controller reset is a software
# reset to Bochs, so the BIOS run again faults on the IA32_FEATURE_CONTROL
# MSR the kernel had locked, triple-faults into a hardware reset, and Bochs
# soon drops to its debugger, which reads "quit".
bochs_ended_by_itself()
{
	[ -n "$guest_reset" ] || bochs_guest_reset ||
		grep -q -F 'ACPI control: soft power off' "$tmp/bochs.log" 2>/dev/null
}

# Bochs panics (other than power-off) mean the simulation may be bogus.
bochs_report_panics()
{
	grep -F '>>PANIC<<' "$tmp/bochs.log" 2>/dev/null |
		grep -v -F 'ACPI control: soft power off' | head -n 10 |
		sed "s/^/$prog: bochs: /" >&2 || :
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

# Watch, once a second, until the emulator exits, the guest resets (Bochs
# only) or the time is up.
deadline=$((SECONDS + timeout)) guest_reset=
while :; do
	if ((SECONDS >= deadline)); then
		stop_emulator
		[ "$lane" != vmx ] || bochs_report_panics
		exit 124
	fi
	sleep 1 &
	tick_pid=$!
	ended='' status=0
	wait -n -p ended "$emu_pid" "$tick_pid" || status=$?
	if [ "$ended" = "$emu_pid" ]; then
		emu_status=$status emu_reaped=1
		break
	fi
	[ "$ended" = "$tick_pid" ] || die "wait failed (status $status)"
	tick_pid=
	if [ "$lane" = vmx ] && bochs_guest_reset; then
		guest_reset=1
		break
	fi
done
stop_emulator	# stops a reset Bochs; takes care of stray group members
if [ -n "$tick_pid" ]; then
	kill "$tick_pid" 2>/dev/null || :
	tick_pid=
fi

case $lane in
svm|debug)
	qemu_ended_by_itself && exit 0
	;;
vmx)
	bochs_report_panics
	bochs_ended_by_itself && exit 0
	;;
esac
echo "$prog: the $lane emulator failed (status $emu_status); its output ends with:" >&2
tail -n 20 "$tmp/emu.out" >&2 || :
[ "$emu_status" != 0 ] || emu_status=1
exit "$emu_status"
