XDP_MCAST  := $(O)/xdp-mcast
LOADER_SRCS := $(wildcard loader/*.c)
ALL_TARGETS += $(XDP_MCAST)

$(XDP_MCAST): $(LOADER_SRCS:%.c=$(O)/obj/%.o) $(LIBXM)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
