namespace BpfSharp.Programs;

/// <summary>How much the verifier writes to its log (<c>log_level</c> of <c>BPF_PROG_LOAD</c>).</summary>
[Flags]
public enum VerifierLogLevel : uint
{
    /// <summary>No log.</summary>
    None = 0,

    /// <summary>Level 1: the path that failed, with register state at branches (<c>BPF_LOG_LEVEL1</c>).</summary>
    Basic = 1,

    /// <summary>Level 2: every instruction of every path with the full register state (<c>BPF_LOG_LEVEL2</c>); logs grow large.</summary>
    Verbose = 2,

    /// <summary>Verification statistics: instructions processed, states, time (<c>BPF_LOG_STATS</c>).</summary>
    Statistics = 4,
}

/// <summary>Options for <see cref="Program.Load"/>.</summary>
public sealed class LoadOptions
{
    /// <summary>The smallest log buffer the kernel accepts (it rejects <c>log_size</c> below 128).</summary>
    public const int MinimumLogSize = 128;

    /// <summary>The largest log buffer the kernel accepts (<c>UINT_MAX &gt;&gt; 2</c>, just under 1 GiB).</summary>
    public const int MaximumLogSize = (int)(uint.MaxValue >> 2);

    /// <summary>
    /// The log detail to ask for when a log is collected. A log is collected when a load without
    /// one fails (to explain the failure), or always when <see cref="CaptureLog"/> is set.
    /// Defaults to <see cref="VerifierLogLevel.Basic"/>.
    /// </summary>
    public VerifierLogLevel LogLevel { get; init; } = VerifierLogLevel.Basic;

    /// <summary>
    /// Load with the verifier log from the start and keep it in <see cref="Program.VerifierLog"/>,
    /// even when the program is accepted. Slower: use it to inspect what the verifier did.
    /// </summary>
    public bool CaptureLog { get; init; }

    /// <summary>The first log buffer size in bytes; it grows until the whole log fits. Defaults to 64 KiB.</summary>
    public int InitialLogSize { get; init; } = 64 * 1024;

    /// <summary>The most the log buffer may grow to, at most <see cref="MaximumLogSize"/>; a longer log is reported truncated.</summary>
    public int MaxLogSize { get; init; } = MaximumLogSize;
}
