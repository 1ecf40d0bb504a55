using BpfSharp.Btf.Core;
using BpfSharp.Kernel;

namespace BpfSharp.Programs;

/// <summary>
/// The verifier rejected a program. The message names the problem (the log's last meaningful
/// lines, such as <c>R0 !read_ok</c>); <see cref="Log"/> holds the whole verifier log.
/// </summary>
public sealed class VerifierException : BpfException
{
    /// <summary>Creates the exception for a rejected program.</summary>
    /// <param name="programName">The name of the program that was rejected.</param>
    /// <param name="errno">The error <c>BPF_PROG_LOAD</c> returned (usually EACCES or EINVAL).</param>
    /// <param name="log">The whole verifier log.</param>
    /// <param name="logTruncated">True when the log did not fit in the largest buffer allowed.</param>
    public VerifierException(string programName, Errno errno, string log, bool logTruncated)
        : this(programName, errno, log, logTruncated, VerifierLog.Analyze(log), null, null)
    {
    }

    /// <summary>
    /// Creates the exception for a program whose failing instruction maps to a line of C source (from the
    /// program's BTF line info).
    /// </summary>
    /// <param name="programName">The program that failed to load.</param>
    /// <param name="errno">The error bpf(BPF_PROG_LOAD) returned.</param>
    /// <param name="log">The verifier's log.</param>
    /// <param name="logTruncated">Whether the log was cut short.</param>
    /// <param name="source">The source line of the failing instruction, or <see langword="null"/> when unknown.</param>
    public VerifierException(string programName, Errno errno, string log, bool logTruncated, VerifierSourceLine? source)
        : this(programName, errno, log, logTruncated, VerifierLog.Analyze(log), source, null)
    {
    }

    /// <summary>
    /// Creates the exception for a program the verifier stopped at an instruction that a CO-RE relocation poisoned
    /// because it could not be resolved against the target kernel's BTF.
    /// </summary>
    /// <param name="programName">The program that failed to load.</param>
    /// <param name="errno">The error bpf(BPF_PROG_LOAD) returned.</param>
    /// <param name="log">The verifier's log.</param>
    /// <param name="logTruncated">Whether the log was cut short.</param>
    /// <param name="source">The source line of the failing instruction, or <see langword="null"/> when unknown.</param>
    /// <param name="unresolvedCoreRelocation">The relocation whose poisoned instruction the verifier reached, or <see langword="null"/>.</param>
    public VerifierException(string programName, Errno errno, string log, bool logTruncated, VerifierSourceLine? source, CoreRelocationResult? unresolvedCoreRelocation)
        : this(programName, errno, log, logTruncated, VerifierLog.Analyze(log), source, unresolvedCoreRelocation)
    {
    }

    private VerifierException(string programName, Errno errno, string log, bool logTruncated, VerifierLog.Analysis analysis, VerifierSourceLine? source,
        CoreRelocationResult? unresolved)
        : base(BpfCommands.Name(BpfCommand.ProgLoad), errno, $"loading program '{programName}'",
            Describe(analysis, logTruncated, source, unresolved) + (unresolved is null ? LogPointer : ""))
    {
        Reason = Describe(analysis, logTruncated, source, unresolved);
        UnresolvedCoreRelocation = unresolved;
        SourceLine = source;
        ProgramName = programName;
        Log = log;
        LogTruncated = logTruncated;
        InstructionIndex = analysis.InstructionIndex;
        Problem = analysis.Problem;
    }

    // Where the message sends a reader for the rest: the library's words; a tool says its own (ReasonWith).
    private const string LogPointer = "; the whole log is in VerifierException.Log";

    /// <summary>
    /// Why the program was rejected, in one sentence: the failing instruction, its C source line and the verifier's
    /// words (or the unresolved CO-RE relocation it reached), without the message's pointer to <see cref="Log"/>.
    /// </summary>
    public string Reason { get; }

    /// <summary>
    /// The message as a tool prints it: the same words, with <paramref name="whereTheLogIs"/> (<c>--log prints the
    /// whole verifier log</c>) where the library's message points to <see cref="Log"/>.
    /// </summary>
    /// <param name="whereTheLogIs">How the tool's user gets the whole log.</param>
    public string MessageWith(string whereTheLogIs) =>
        Compose(Operation, Errno, Context, UnresolvedCoreRelocation is null ? $"{Reason}; {whereTheLogIs}" : Reason);

    /// <summary>The name of the rejected program.</summary>
    public string ProgramName { get; }

    /// <summary>The whole verifier log.</summary>
    public string Log { get; }

    /// <summary>True when the log was cut off because it did not fit in the largest buffer allowed.</summary>
    public bool LogTruncated { get; }

    /// <summary>
    /// The instruction the verifier stopped at, numbered as the verifier numbers them (8-byte
    /// slots: a 64-bit immediate load counts as two), or null when the log does not say.
    /// </summary>
    public int? InstructionIndex { get; }

    /// <summary>The verifier's own words for the problem (the log's last meaningful lines).</summary>
    public string Problem { get; }

    /// <summary>
    /// The C source line of the failing instruction, from the program's BTF line info, or <see langword="null"/> when the
    /// program has none or the log names no instruction.
    /// </summary>
    public VerifierSourceLine? SourceLine { get; }

    /// <summary>
    /// The CO-RE relocation that could not be resolved and whose poisoned instruction the program reached, or
    /// <see langword="null"/>. The verifier itself only sees a call to an unknown function there.
    /// </summary>
    public CoreRelocationResult? UnresolvedCoreRelocation { get; }

    private static string Describe(VerifierLog.Analysis analysis, bool logTruncated, VerifierSourceLine? source, CoreRelocationResult? unresolved)
    {
        string where = analysis.InstructionIndex is int index ? $" at instruction {index}" : "";
        if (source is not null)
        {
            where += $" ({source})";
        }
        string truncated = logTruncated ? " (the log was truncated)" : "";
        if (unresolved is not null)
        {
            string access = unresolved.LocalAccess.Length > 0 ? unresolved.LocalAccess : unresolved.LocalType;
            return $"the program reaches CO-RE relocation #{unresolved.RelocationIndex} ({CoreRelocator.KindName(unresolved.Kind)} of {access}){where}, which could not be " +
                $"resolved against the target kernel's BTF: {unresolved.PoisonReason}. Guard that code with bpf_core_field_exists(), bpf_core_type_exists() or " +
                $"bpf_core_enum_value_exists() so that it does not run where the kernel lacks it, or load against a BTF that has it (CollectionOptions.CoreTarget); " +
                $"the verifier saw: {analysis.Problem}{truncated}";
        }
        return $"the verifier rejected the program{where}: {analysis.Problem}{truncated}";
    }
}

/// <summary>A line of C source a BPF instruction was compiled from (BTF line info).</summary>
/// <param name="FileName">The source file.</param>
/// <param name="Line">The 1-based line number.</param>
/// <param name="Column">The column, 0 when unknown.</param>
/// <param name="Text">The line's text as the compiler recorded it.</param>
public sealed record VerifierSourceLine(string FileName, int Line, int Column, string Text)
{
    /// <inheritdoc />
    public override string ToString() => $"{FileName}:{Line}{(Column > 0 ? $":{Column}" : "")}: {Text.Trim()}";
}
