# Rules shared by every component.  Component fragments (*/Build.mk) only
# declare what they build; everything is compiled here.
.DELETE_ON_ERROR:

O        ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH_INC ?= /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	    -std=gnu11 -D_GNU_SOURCE -Ibpf -Iuserspace -I$(O)/bpf
BPF_CFLAGS = -O2 -g -target bpf -Wall -Werror -I$(ARCH_INC) -Ibpf
LDLIBS   = -lbpf -lelf -lz
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all

BPF_HEADERS := $(wildcard bpf/*.h)
USER_HEADERS := $(wildcard userspace/*.h) $(BPF_HEADERS)

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HEADERS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(O)/obj/%.o: %.c $(USER_HEADERS) $(SKELETONS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/san/%.o: %.c $(USER_HEADERS) $(SKELETONS)
	$(call msg,CC-SAN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@
