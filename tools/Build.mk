# mcast-gen uses only libc sockets, so it links nothing of libxm or libbpf.
MCAST_GEN  := $(O)/mcast-gen
ALL_TARGETS += $(MCAST_GEN)

$(MCAST_GEN): $(O)/obj/tools/mcast-gen.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^

# mcast-top: the model (top.c, shared with the bench) and its terminal.
MCAST_TOP  := $(O)/mcast-top
TOP_OBJ    := $(O)/obj/tools/top.o
ALL_TARGETS += $(MCAST_TOP)

$(O)/obj/tools/top.o $(O)/obj/tools/mcast-top.o: tools/top.h

$(MCAST_TOP): $(O)/obj/tools/mcast-top.o $(TOP_OBJ) $(LIBXM)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lncurses -lm
