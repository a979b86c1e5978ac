# tests/run runs every binary and script listed here.
TEST_XDP   := $(O)/tests/test_xdp
TEST_UNIT  := $(O)/tests/test_unit

test-bins: $(TEST_XDP) $(TEST_UNIT)

$(TEST_XDP): $(O)/obj/tests/bpf/test_xdp.o $(LIBXM)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(TEST_UNIT): $(O)/san/tests/unit/test_unit.o $(LIBXM_SAN)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)
