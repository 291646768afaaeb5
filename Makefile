# SPDX-License-Identifier: GPL-2.0-only
#
# khv: out-of-tree build, checks and tests.
#
#   make                 build khv.ko, khv-svm.ko, khv-vmx.ko against KDIR
#   make check           sparse (C=2) and W=1 over every source; fails on a warning
#   make selftests       build the selftests (static binaries)
#   make test            all test lanes (LANE=svm|vmx|debug|packaging for one,
#                        T=<glob> for a subset)
#   make demo            the main job: boot an emulated host and run khv in it
#   make deps            install the Debian packages all of this needs
#
# Packaging (Documentation/packaging.md):
#   make sign KEY=<key.pem> CERT=<cert>   sign the built modules with
#                        $(KDIR)/scripts/sign-file (MODULES="a.ko b.ko" to
#                        sign others; then nothing is built first)
#   make deb             the khv source package and khv-dkms_<version>_all.deb,
#                        into out/deb (DEB_OUT=...)
#   make dkms-check      dkms add + build of dkms.conf in private DKMS trees,
#                        for the Debian headers' kernel (DKMS_KVER=...)
#   make version-check   debian/changelog, include/khv/version.h and dkms.conf
#                        agree on the version
#
# KDIR defaults to the running kernel's headers when they exist, else the
# newest installed /usr/src/linux-headers-*-amd64.

KDIR ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; \
	else \
		ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1; \
	fi)

PWD := $(shell pwd)

.PHONY: all modules check clean selftests test demo deps kdir-check
.PHONY: sign deb dkms-check version-check

all: modules

kdir-check:
	@if [ -z "$(KDIR)" ] || [ ! -d "$(KDIR)" ]; then \
		echo "khv: no kernel headers found; run 'make deps' or set KDIR=" >&2; \
		exit 1; \
	fi

modules: kdir-check
	$(MAKE) -C $(KDIR) M=$(PWD) modules

# sparse on every source (C=2 re-checks even up-to-date objects) plus W=1.
# Any warning or sparse complaint fails the target.
check: kdir-check
	@$(MAKE) -C $(KDIR) M=$(PWD) clean >/dev/null
	@$(MAKE) -C $(KDIR) M=$(PWD) C=2 W=1 modules 2>&1 | tee .check.log
	@if grep -E 'warning:|error:|sparse:' .check.log; then \
		echo "make check: FAILED (see above)" >&2; rm -f .check.log; exit 1; \
	fi
	@rm -f .check.log
	@echo "make check: clean"

clean:
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(PWD) clean; fi
	$(MAKE) -C tests/selftests clean
	rm -rf out

selftests:
	$(MAKE) -C tests/selftests

test:
	./tests/run.sh $(if $(LANE),--lane $(LANE)) $(if $(T),--tests '$(T)')

demo:
	./tests/demo.sh

deps:
	./scripts/install-deps.sh

# Sign the modules in place (re-signing replaces an earlier signature).
sign: kdir-check $(if $(MODULES),,modules)
	@if [ -z "$(KEY)" ] || [ -z "$(CERT)" ]; then \
		echo "usage: make sign KEY=<private key> CERT=<X.509 certificate> [MODULES=...]" >&2; \
		exit 1; \
	fi
	@./scripts/sign-modules.sh "$(KDIR)" "$(KEY)" "$(CERT)" \
		$(or $(MODULES),khv.ko khv-svm.ko khv-vmx.ko)

deb:
	./scripts/mkdeb.sh $(DEB_OUT)

dkms-check:
	./scripts/dkms-check.sh $(DKMS_KVER)

version-check:
	@./scripts/version-check.sh
