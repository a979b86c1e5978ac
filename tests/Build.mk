# tests/run runs every binary and script listed here.
TEST_XDP   := $(O)/tests/test_xdp
TEST_ACCEL := $(O)/tests/test_accel
TEST_UNIT  := $(O)/tests/test_unit
TEST_CONF  := $(O)/tests/test_conf
FUZZ_CONF  := $(O)/fuzz/fuzz_conf
TEST_MSHIP := $(O)/tests/test_mship
FUZZ_MSHIP := $(O)/fuzz/fuzz_mship
MFC_WATCH  := $(O)/tests/mfc_watch
FWD_FEED   := $(O)/tests/fwd_feed

test-bins: $(TEST_ACCEL) $(TEST_XDP) $(TEST_UNIT) $(TEST_CONF) $(FUZZ_CONF) $(TEST_MSHIP) $(FUZZ_MSHIP) \
	$(MFC_WATCH) $(FWD_FEED)

# The kernel MFC mirror (userspace/mfc.c) on its own, for tests/ns/test-mfc.sh.
$(MFC_WATCH): $(O)/obj/tests/ns/mfc_watch.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The forwarding table and the local-listener follower with a route of
# origin kernel, for tests/ns/test-routes.sh where ipmr is missing.
$(FWD_FEED): $(O)/obj/tests/ns/fwd_feed.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(TEST_XDP): $(O)/obj/tests/bpf/test_xdp.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The XDP object once more with the test entry points (XM_TEST_PROGS).
$(O)/bpf/xdp_mcast_test.bpf.o: bpf/xdp_mcast.bpf.c $(BPF_HEADERS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXM_TEST_PROGS -c $< -o $@

$(O)/bpf/xdp_mcast_test.skel.h: $(O)/bpf/xdp_mcast_test.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name xdp_mcast_test_bpf > $@

$(O)/obj/tests/bpf/test_accel.o: $(O)/bpf/xdp_mcast_test.skel.h

$(TEST_ACCEL): $(O)/obj/tests/bpf/test_accel.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(TEST_UNIT): $(O)/san/tests/unit/test_unit.o $(LIBXM_SAN)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(TEST_CONF): $(O)/san/tests/unit/test_conf.o $(LIBXM_SAN)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets (clang).  tests/fuzz/run runs each for a bounded time
# in `make test`; `make fuzz FUZZ_TIME=600` for a longer run.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(FUZZ_CONF): tests/fuzz/fuzz_conf.c userspace/conf.c userspace/mship.c userspace/ctrl.c \
		userspace/util.c $(USER_HEADERS)
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

$(TEST_MSHIP): $(O)/san/tests/unit/test_mship.o $(LIBXM_SAN)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_MSHIP): tests/fuzz/fuzz_mship.c userspace/ctrl.c userspace/mship.c userspace/util.c \
		$(USER_HEADERS)
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

fuzz: $(FUZZ_CONF) $(FUZZ_MSHIP)
	$(Q)FUZZ_TIME=$(or $(FUZZ_TIME),600) tests/fuzz/run

# The observers' pure parts: rates, the flow tracker, the metrics text,
# mcast-top's rows and the memberships' kept order.
TEST_RATES := $(O)/tests/test_rates
test-bins: $(TEST_RATES)

$(O)/san/tests/unit/test_rates.o: CFLAGS += -Itools
$(O)/san/tests/unit/test_rates.o $(O)/san/tools/top.o: tools/top.h

$(TEST_RATES): $(O)/san/tests/unit/test_rates.o $(O)/san/tools/top.o $(LIBXM_SAN)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS) -lm
