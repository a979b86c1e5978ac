BENCH_XDP  := $(O)/bench/bench_xdp

bench-bins: $(BENCH_XDP)

$(BENCH_XDP): $(O)/obj/bench/bench_xdp.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
