#!/usr/bin/env bash
# Installs every Debian package khv's build and test lanes need. Idempotent:
# packages already present are skipped, and apt is not touched when nothing
# is missing.
set -euo pipefail

pkgs=(
	# build
	make gcc libc6-dev kmod sparse bc bison flex libelf-dev libssl-dev dwarves
	linux-headers-amd64
	# emulated hosts
	linux-image-amd64 qemu-system-x86 busybox-static cpio gzip xz-utils
	bochs bochsbios vgabios bochs-x xvfb xauth
	isolinux syslinux-common genisoimage
	# debug lane kernel (openssl makes its module signing key)
	linux-source-6.1 openssl
	# packaging: make deb, make sign, the packaging lane
	dkms dh-dkms debhelper dpkg-dev lintian udev
	# misc used by the harness
	python3 coreutils findutils procps
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
