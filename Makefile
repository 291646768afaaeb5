# SPDX-License-Identifier: GPL-2.0-only
#
# khv: out-of-tree build, checks and tests.
#
#   make                 build khv.ko, khv-svm.ko, khv-vmx.ko against KDIR
#   make check           sparse (C=2) and W=1 over every source; fails on a warning
#   make selftests       build the selftests (static binaries)
#   make test            all test lanes (LANE=svm|vmx|debug for one, T=<glob> for a subset)
#   make demo            the main job: boot an emulated host and run khv in it
#   make deps            install the Debian packages all of this needs
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

selftests:
	$(MAKE) -C tests/selftests

test:
	./tests/run.sh $(if $(LANE),--lane $(LANE)) $(if $(T),--tests '$(T)')

demo:
	./tests/demo.sh

deps:
	./scripts/install-deps.sh
