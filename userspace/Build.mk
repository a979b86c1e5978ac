# Code shared by the loader, the daemon and the tools.
LIBXM_SRCS := $(filter-out %.bpf.c,$(wildcard userspace/*.c))
LIBXM      := $(O)/libxm.a
LIBXM_SAN  := $(O)/libxm-san.a

$(LIBXM): $(LIBXM_SRCS:%.c=$(O)/obj/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(LIBXM_SAN): $(LIBXM_SRCS:%.c=$(O)/san/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The readers' walks of the flow and membership tables (walk.bpf.c),
# loaded by walk.c when a reader opens the maps, never by the loader: it
# lives with its reader.  Same flags as bpf/*.bpf.c.
WALK_BPF  := $(O)/userspace/walk.bpf.o
WALK_SKEL := $(O)/userspace/walk.skel.h

$(WALK_BPF): userspace/walk.bpf.c userspace/walk_kern_user.h $(BPF_HEADERS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Iuserspace -c $< -o $@

$(WALK_SKEL): $(WALK_BPF)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(O)/obj/userspace/walk.o $(O)/san/userspace/walk.o: $(WALK_SKEL)
$(O)/obj/userspace/walk.o $(O)/san/userspace/walk.o: CFLAGS += -I$(O)/userspace
