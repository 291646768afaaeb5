#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# khv's version has one source of truth, the newest entry of
# debian/changelog; KHV_VERSION in include/khv/version.h (MODULE_VERSION of
# the three modules) and PACKAGE_VERSION in dkms.conf must equal its
# upstream part. Prints the version; exits 1, naming the culprit, when they
# differ.
#
#   scripts/version-check.sh [EXPECTED]
#
# EXPECTED, if given (debian/rules passes DEB_VERSION_UPSTREAM), must be the
# same version too.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# "khv (0.1.0) unstable; urgency=medium" -> 0.1.0 (a Debian revision, if
# the package ever gets one, is not part of the upstream version).
cl=$(sed -n '1s/^khv (\([^)]*\)).*/\1/p' "$top/debian/changelog")
cl=${cl%-*}
hdr=$(sed -n 's/^#define KHV_VERSION "\(.*\)"$/\1/p' "$top/include/khv/version.h")
dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")

bad=0
[ -n "$cl" ] || { echo "version-check: no version in debian/changelog" >&2; exit 1; }
check() { # what value
	if [ "$2" != "$cl" ]; then
		echo "version-check: $1 says '$2', debian/changelog says '$cl'" >&2
		bad=1
	fi
}
check include/khv/version.h "$hdr"
check dkms.conf "$dkms"
[ $# -eq 0 ] || check "the package build" "$1"
[ $bad = 0 ] || exit 1
echo "$cl"
