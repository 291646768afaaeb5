#!/usr/bin/env bash
# Builds (once) the debug lane's kernel from Debian's linux-source-6.1:
# KASAN, lockdep, DEBUG_ATOMIC_SLEEP, kmemleak and KUnit, with kvm/kvm-amd/
# kvm-intel as modules (the oracle, and the symbols khv needs: MMU notifiers,
# preempt notifiers). The tree is cached outside the checkout, keyed by this
# script's config list and the source package version, so a changed config
# means a new build and an unchanged one is reused.
#
# Module signing is enforced (MODULE_SIG_FORCE): the build makes its own key,
# certs/signing_key.pem (+ .x509), and trusts only that. The stock modules are
# signed by `make modules_install` (MODULE_SIG_ALL) into <tree>/modinst,
# where the lane takes them from; khv's modules are signed by tests/run.sh
# with the same key (`make sign`).
#
# Prints the path of the built tree on stdout (last line).
set -euo pipefail

src_tar=/usr/src/linux-source-6.1.tar.xz
cache=${KHV_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/cache}/.cache}/khv}
jobs=${JOBS:-$(( $(nproc) + 1 ))}

# Options switched on over tinyconfig. Keep sorted by topic; any change here
# changes the cache key.
cfg_y=(
	64BIT MODULES MODULE_UNLOAD PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE
	BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT PROC_FS SYSFS BINFMT_ELF
	BINFMT_SCRIPT SHMEM TMPFS FUTEX EPOLL EVENTFD SIGNALFD TIMERFD MULTIUSER
	POSIX_TIMERS SMP X86_LOCAL_APIC PCI ACPI HIGH_RES_TIMERS VIRTUALIZATION
	KSM TRANSPARENT_HUGEPAGE NUMA MIGRATION SWAP CGROUPS MEMCG
	HYPERVISOR_GUEST PARAVIRT KVM_GUEST
	CPU_SUP_INTEL CPU_SUP_AMD X86_MSR PROC_KCORE
	DEBUG_KERNEL KUNIT KUNIT_DEBUGFS DEBUG_FS KASAN KASAN_GENERIC KASAN_INLINE
	PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_LIST DEBUG_KMEMLEAK STACKTRACE
	KALLSYMS UNWINDER_FRAME_POINTER SLUB BUG_ON_DATA_CORRUPTION
	MODULE_SIG MODULE_SIG_FORCE MODULE_SIG_ALL MODULE_SIG_SHA256
)
cfg_m=(KVM KVM_AMD KVM_INTEL)
cfg_n=(SLOB SLUB_TINY UNWINDER_ORC KVM_WERROR DEBUG_KMEMLEAK_DEFAULT_OFF
	KUNIT_ALL_TESTS KUNIT_DEFAULT_ENABLED_OFF)
cfg_val=("DEBUG_KMEMLEAK_MEM_POOL_SIZE=16000")

ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { echo "$ver"; printf '%s\n' "${cfg_y[@]}" -- "${cfg_m[@]}" -- "${cfg_n[@]}" -- "${cfg_val[@]}"; } |
	sha256sum | cut -c1-16)
tree=$cache/debug-kernel-$key

mkdir -p "$cache"
# One build per key at a time: a second caller waits, then finds it cached.
exec 9>"$cache/.lock-$key"
flock 9

if [ -f "$tree/.khv-built" ]; then
	echo "debug-kernel: cached at $tree" >&2
	echo "$tree"
	exit 0
fi

rm -rf "$tree" "$tree.tmp"
mkdir -p "$tree.tmp"
echo "debug-kernel: extracting $src_tar ($ver)" >&2
tar -C "$tree.tmp" -xf "$src_tar" --strip-components=1
cd "$tree.tmp"
make -s tinyconfig >&2
for o in "${cfg_y[@]}"; do scripts/config -e "$o"; done
for o in "${cfg_m[@]}"; do scripts/config -m "$o"; done
for o in "${cfg_n[@]}"; do scripts/config -d "$o"; done
for o in "${cfg_val[@]}"; do scripts/config --set-val "${o%%=*}" "${o#*=}"; done
make -s olddefconfig >&2
# Verify the options that matter actually stuck (olddefconfig drops options
# whose dependencies are missing, silently).
for o in KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK KUNIT MODULES \
	MMU_NOTIFIER PREEMPT_NOTIFIERS MODULE_SIG MODULE_SIG_FORCE MODULE_SIG_ALL; do
	grep -q "^CONFIG_$o=y" .config || { echo "debug-kernel: CONFIG_$o not set" >&2; exit 1; }
done
for o in KVM KVM_AMD KVM_INTEL; do
	grep -q "^CONFIG_$o=m" .config || { echo "debug-kernel: CONFIG_$o not m" >&2; exit 1; }
done
echo "debug-kernel: building with -j$jobs (about 13 min on 2 cores)" >&2
make -s -j"$jobs" bzImage modules >&2
# The signed stock modules (the in-tree .ko files stay unsigned).
make -s modules_install INSTALL_MOD_PATH="$tree.tmp/modinst" >&2
for f in certs/signing_key.pem certs/signing_key.x509 scripts/sign-file; do
	[ -f "$f" ] || { echo "debug-kernel: $f missing" >&2; exit 1; }
done
cd /
mv "$tree.tmp" "$tree"
touch "$tree/.khv-built"
echo "$tree"
