# Code shared by the loader, the daemon and the tools.
LIBXM_SRCS := $(wildcard userspace/*.c)
LIBXM      := $(O)/libxm.a
LIBXM_SAN  := $(O)/libxm-san.a

$(LIBXM): $(LIBXM_SRCS:%.c=$(O)/obj/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(LIBXM_SAN): $(LIBXM_SRCS:%.c=$(O)/san/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^
