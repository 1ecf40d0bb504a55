namespace BpfSharp.Programs;

/// <summary>Program load flags (<c>prog_flags</c> of <c>BPF_PROG_LOAD</c>, the <c>BPF_F_*</c> values of linux/bpf.h).</summary>
[Flags]
public enum ProgramFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary><c>BPF_F_STRICT_ALIGNMENT</c>: check memory access alignment even on architectures that do not need it.</summary>
    StrictAlignment = 1u << 0,

    /// <summary><c>BPF_F_ANY_ALIGNMENT</c>: skip alignment checks (testing only; unaligned access may fault on strict architectures).</summary>
    AnyAlignment = 1u << 1,

    /// <summary><c>BPF_F_TEST_RND_HI32</c>: fill the upper 32 bits of 32-bit subregister writes with random values (verifier testing).</summary>
    TestRandomHi32 = 1u << 2,

    /// <summary><c>BPF_F_TEST_STATE_FREQ</c>: make the verifier checkpoint state at every instruction (verifier testing).</summary>
    TestStateFreq = 1u << 3,

    /// <summary><c>BPF_F_SLEEPABLE</c>: the program may call helpers that sleep (fentry/fexit, LSM, uprobe, iterators, syscall).</summary>
    Sleepable = 1u << 4,

    /// <summary><c>BPF_F_XDP_HAS_FRAGS</c>: the XDP program handles multi-buffer (fragmented) packets.</summary>
    XdpHasFrags = 1u << 5,

    /// <summary><c>BPF_F_XDP_DEV_BOUND_ONLY</c>: the XDP program is bound to the device of <see cref="ProgramSpec.Ifindex"/> and may use its kfuncs.</summary>
    XdpDevBoundOnly = 1u << 6,

    /// <summary><c>BPF_F_TEST_REG_INVARIANTS</c>: make the verifier check its register range invariants (verifier testing).</summary>
    TestRegInvariants = 1u << 7,

    /// <summary><c>BPF_F_TOKEN_FD</c>: the load carries a BPF token (delegated permissions in a user namespace).</summary>
    TokenFd = 1u << 16,
}
