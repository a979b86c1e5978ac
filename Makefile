# xdp-mcast: `make` builds, `make test` installs what is missing and runs
# every test, `make demo` shows it working, `make bench` measures it.
all:

O ?= build
include bpf/Build.mk	# first: the rules in common.mk depend on $(SKELETONS)
include mk/common.mk
include userspace/Build.mk
include loader/Build.mk
include tools/Build.mk
include tests/Build.mk
include bench/Build.mk

all: $(ALL_TARGETS)

deps:
	$(Q)scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all test-bins
	$(Q)tests/run

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all bench-bins
	$(Q)bench/run

clean:
	$(Q)rm -rf $(O)

.PHONY: all deps test demo bench clean test-bins bench-bins fuzz
