#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Signs kernel modules with the kernel's own scripts/sign-file (`make sign`).
#
#   scripts/sign-modules.sh KDIR KEY CERT MODULE...
#
# KDIR  the kernel build tree or headers the modules were built against:
#       its scripts/sign-file signs, with the hash of its
#       CONFIG_MODULE_SIG_HASH (sha256 if it has none)
# KEY   private key, PEM (or a PKCS#11 URI, as sign-file takes)
# CERT  its X.509 certificate, PEM or DER
#
# A module that is already signed has its signature(s) removed first, so
# signing again (another key, a rebuilt module) leaves exactly one.
set -eu

[ $# -ge 4 ] || { echo "usage: $0 KDIR KEY CERT MODULE..." >&2; exit 2; }
kdir=$1 key=$2 cert=$3
shift 3

signfile=$kdir/scripts/sign-file
[ -x "$signfile" ] || { echo "sign: $signfile not found (kernel built without CONFIG_MODULE_SIG?)" >&2; exit 1; }
case $key in
pkcs11:*) ;;
*) [ -r "$key" ] || { echo "sign: cannot read KEY '$key'" >&2; exit 1; } ;;
esac
[ -r "$cert" ] || { echo "sign: cannot read CERT '$cert'" >&2; exit 1; }

hash=
for f in "$kdir/include/config/auto.conf" "$kdir/.config"; do
	[ -r "$f" ] || continue
	hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$f")
	break
done
hash=${hash:-sha256}

magic='~Module signature appended~'
# Removes every appended signature: [module][signature][struct
# module_signature, 12 bytes, ending in the signature's length as a
# big-endian u32][magic + newline, 28 bytes].
strip_sig() { # module
	while [ "$(tail -c 28 "$1" | head -c 27)" = "$magic" ]; do
		size=$(stat -c %s "$1")
		siglen=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 |
			awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
		truncate -s $((size - 28 - 12 - siglen)) "$1"
	done
}

for m in "$@"; do
	[ -f "$m" ] || { echo "sign: no module '$m' (run make first)" >&2; exit 1; }
	strip_sig "$m"
	"$signfile" "$hash" "$key" "$cert" "$m"
	echo "  SIGN    $m ($hash)"
done
