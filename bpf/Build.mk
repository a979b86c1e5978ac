BPF_PROGS  := xdp_mcast xdp_pass
BPF_OBJS   := $(BPF_PROGS:%=$(O)/bpf/%.bpf.o)
SKELETONS  := $(BPF_PROGS:%=$(O)/bpf/%.skel.h)
ALL_TARGETS += $(BPF_OBJS) $(SKELETONS)
