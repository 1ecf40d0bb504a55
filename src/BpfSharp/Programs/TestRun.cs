namespace BpfSharp.Programs;

/// <summary>Flags of <c>BPF_PROG_TEST_RUN</c> (the <c>BPF_F_TEST_*</c> values of linux/bpf.h).</summary>
[Flags]
public enum TestRunFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary><c>BPF_F_TEST_RUN_ON_CPU</c>: run on <see cref="TestRunOptions.Cpu"/> (set automatically when a CPU is given).</summary>
    RunOnCpu = 1u << 0,

    /// <summary><c>BPF_F_TEST_XDP_LIVE_FRAMES</c>: transmit the XDP frames the program returns XDP_TX/XDP_REDIRECT for.</summary>
    XdpLiveFrames = 1u << 1,

    /// <summary><c>BPF_F_TEST_SKB_CHECKSUM_COMPLETE</c>: give the skb CHECKSUM_COMPLETE and check the checksum after the run.</summary>
    SkbChecksumComplete = 1u << 2,
}

/// <summary>Input and settings for <see cref="Program.TestRun"/>.</summary>
public sealed class TestRunOptions
{
    /// <summary>The packet (or other data) the program runs on; empty for types that take none.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>
    /// The room for the data the program leaves behind, in bytes; defaults to the input's length.
    /// If the program grows the packet beyond it, the run is repeated with the size the kernel reports.
    /// </summary>
    public int? DataOutSize { get; init; }

    /// <summary>The context the program gets (a <c>__sk_buff</c>, <c>xdp_md</c>, raw tracepoint arguments, ...), or empty for the kernel's default.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>
    /// The room for the context after the run, in bytes (0: not read back). Defaults to the input
    /// context's length, except for raw tracepoint, tracing, syscall and struct_ops programs, whose runs
    /// refuse an output context.
    /// </summary>
    public int? ContextOutSize { get; init; }

    /// <summary>
    /// How many times to run (the reported duration is the average). 0, the default, runs once;
    /// leave it 0 for types that cannot repeat (raw tracepoints reject any repeat count).
    /// </summary>
    public uint Repeat { get; init; }

    /// <summary>Test-run flags.</summary>
    public TestRunFlags Flags { get; init; }

    /// <summary>The CPU to run on (raw tracepoint programs), or null for the current one.</summary>
    public uint? Cpu { get; init; }

    /// <summary>Frames per batch with <see cref="TestRunFlags.XdpLiveFrames"/>, or 0 for the kernel's default.</summary>
    public uint BatchSize { get; init; }
}

/// <summary>What a test run returned.</summary>
/// <param name="ReturnValue">The program's return value (<c>retval</c>), such as an XDP action.</param>
/// <param name="NanosecondsPerRun">The average time of one run in nanoseconds (<c>duration</c>), as the kernel measured it.</param>
/// <param name="DataOut">The data after the run, as long as the kernel reported it.</param>
/// <param name="ContextOut">The context after the run, when it was asked for; otherwise empty.</param>
public sealed record TestRunResult(uint ReturnValue, uint NanosecondsPerRun, byte[] DataOut, byte[] ContextOut);
