/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv's version, the MODULE_VERSION() of khv.ko, khv-svm.ko and khv-vmx.ko.
 *
 * The version of the newest debian/changelog entry is the source of truth:
 * this string and PACKAGE_VERSION in dkms.conf must equal it. `make
 * version-check` compares the three, and `make deb`, debian/rules and the
 * packaging test lane refuse to go on when they differ. To release X.Y.Z:
 * add a changelog entry for X.Y.Z, then change both to "X.Y.Z".
 */
#ifndef KHV_VERSION_H
#define KHV_VERSION_H

#define KHV_VERSION "0.1.0"

#endif /* KHV_VERSION_H */
