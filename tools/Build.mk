# mcast-gen uses only libc sockets, so it links nothing of libxm or libbpf.
MCAST_GEN  := $(O)/mcast-gen
ALL_TARGETS += $(MCAST_GEN)

$(MCAST_GEN): $(O)/obj/tools/mcast-gen.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^
