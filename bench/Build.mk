BENCH_XDP  := $(O)/bench/bench_xdp
BENCH_SNOOP := $(O)/bench/bench_snoop
BENCH_BPF  := $(O)/bench/bench_helpers.bpf.o
BENCH_SKEL := $(O)/bench/bench_helpers.skel.h

bench-bins: $(BENCH_XDP) $(BENCH_SNOOP)

# The bench's own BPF programs (bench_helpers.bpf.c) live here, not in bpf/:
# they are never loaded outside the bench.  Same flags as bpf/*.bpf.c.
$(BENCH_BPF): bench/bench_helpers.bpf.c bench/bench_helpers.h $(BPF_HEADERS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_SKEL): $(BENCH_BPF)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

BENCH_OBJS := $(O)/obj/bench/bench_xdp.o $(O)/obj/bench/bench_policy.o

$(BENCH_OBJS): CFLAGS += -I$(O)/bench
$(BENCH_OBJS): $(BENCH_SKEL) bench/bench.h bench/bench_helpers.h

$(BENCH_XDP): $(BENCH_OBJS) $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Snooping in the daemon (bench_snoop.c): the user-space modules on the maps
# of a real load, so it needs no BPF object of its own.  It times two of the
# calls libxm makes where they are made: the link routes them through it.
$(BENCH_SNOOP): LDLIBS += -Wl,--wrap=if_indextoname -Wl,--wrap=bpf_map_update_elem \
	-Wl,--wrap=bpf_map_update_batch
$(BENCH_SNOOP): $(O)/obj/bench/bench_snoop.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# mcast-top's refresh on 100000 flows (bench_top.c): the model of
# tools/top.c on the maps of a real load.
BENCH_TOP := $(O)/bench/bench_top
bench-bins: $(BENCH_TOP)

$(O)/obj/bench/bench_top.o: CFLAGS += -Itools
$(O)/obj/bench/bench_top.o: tools/top.h

$(BENCH_TOP): $(O)/obj/bench/bench_top.o $(TOP_OBJ) $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lm

# The accelerator's per-packet cost with 1, 1000 and 1000000 forwarding
# entries (bench_accel.c), and the counting receiver of the throughput
# bench (bench/accel.sh): bench_count.bpf.o, loaded with `ip link`.
BENCH_ACCEL := $(O)/bench/bench_accel
BENCH_COUNT := $(O)/bench/bench_count.bpf.o
bench-bins: $(BENCH_ACCEL) $(BENCH_COUNT)

$(O)/obj/bench/bench_accel.o: CFLAGS += -I$(O)/bench
$(O)/obj/bench/bench_accel.o: $(O)/bpf/xdp_mcast.skel.h $(BENCH_SKEL) bench/bench_helpers.h

$(BENCH_ACCEL): $(O)/obj/bench/bench_accel.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_COUNT): bench/bench_count.bpf.c $(BPF_HEADERS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The throughput bench's generator and counter reader (bench_gen.c).
BENCH_GEN := $(O)/bench/bench_gen
bench-bins: $(BENCH_GEN)

$(BENCH_GEN): $(O)/obj/bench/bench_gen.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
