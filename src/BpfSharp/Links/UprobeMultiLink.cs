using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Symbols;

namespace BpfSharp.Links;

/// <summary>
/// One kprobe program attached to many locations of one file at once (BPF_TRACE_UPROBE_MULTI,
/// kernels since 6.6), or as a session (BPF_TRACE_UPROBE_SESSION, kernels since 6.13): the program
/// runs at each function's entry and return, and an entry run that returns non-zero skips that
/// call's return run.
/// </summary>
public sealed unsafe class UprobeMultiLink : Link
{
    private UprobeMultiLink(FileDescriptor fd, string description, string path, int count, bool isReturn, bool isSession) : base(fd, description)
    {
        Path = path;
        Count = count;
        IsReturn = isReturn;
        IsSession = isSession;
    }

    /// <summary>True when the program runs at the functions' returns only (uretprobe.multi).</summary>
    public bool IsReturn { get; }

    /// <summary>True for a session link: the program runs at entry and return (bpf_session_is_return tells which).</summary>
    public bool IsSession { get; }

    /// <summary>The probed file.</summary>
    public string Path { get; }

    /// <summary>How many locations are probed.</summary>
    public int Count { get; }

    /// <summary>Attaches to functions of <paramref name="binary"/> by name.</summary>
    /// <param name="program">A kprobe program loaded with expected attach type TraceUprobeMulti.</param>
    /// <param name="binary">A path or library name.</param>
    /// <param name="functions">The functions.</param>
    /// <param name="isReturn">Probe their returns (BPF_F_UPROBE_MULTI_RETURN).</param>
    /// <param name="pid">Only this process, or null.</param>
    /// <param name="cookies">One cookie per function, or null.</param>
    public static UprobeMultiLink Attach(Program program, string binary, IReadOnlyList<string> functions, bool isReturn = false, int? pid = null, IReadOnlyList<ulong>? cookies = null)
    {
        ArgumentNullException.ThrowIfNull(functions);
        string path = SharedLibraries.Resolve(binary, pid);
        ulong[] offsets = [.. functions.Select(f => UprobeLink.FunctionFileOffset(path, f))];
        return AttachOffsets(program, path, offsets, isReturn, pid, cookies, null);
    }

    /// <summary>
    /// Attaches a session program to functions of <paramref name="binary"/> by name (BPF_TRACE_UPROBE_SESSION,
    /// Linux 6.13): it runs at each call's entry and, unless that entry run returned non-zero, at its return.
    /// The program tells the two apart with the kfunc <c>bpf_session_is_return()</c>, and may keep 8 bytes
    /// per call in <c>bpf_session_cookie()</c>.
    /// </summary>
    /// <param name="program">A kprobe program loaded with expected attach type TraceUprobeSession (section <c>uprobe.session</c>).</param>
    /// <param name="binary">A path or library name.</param>
    /// <param name="functions">The functions.</param>
    /// <param name="pid">Only this process, or null.</param>
    /// <param name="cookies">One cookie per function, or null.</param>
    /// <exception cref="BpfException">The kernel has no uprobe sessions (the message says so), a function cannot be found, or the kernel refused.</exception>
    public static UprobeMultiLink AttachSession(Program program, string binary, IReadOnlyList<string> functions, int? pid = null, IReadOnlyList<ulong>? cookies = null)
    {
        ArgumentNullException.ThrowIfNull(functions);
        string path = SharedLibraries.Resolve(binary, pid);
        ulong[] offsets = [.. functions.Select(f => UprobeLink.FunctionFileOffset(path, f))];
        return Attach(program, path, offsets, AttachType.TraceUprobeSession, isReturn: false, pid, cookies, null);
    }

    /// <summary>Attaches at file offsets of <paramref name="path"/>, each with an optional semaphore offset and cookie.</summary>
    public static UprobeMultiLink AttachOffsets(Program program, string path, IReadOnlyList<ulong> offsets, bool isReturn = false, int? pid = null,
        IReadOnlyList<ulong>? cookies = null, IReadOnlyList<ulong>? referenceCounterOffsets = null) =>
        Attach(program, path, offsets, AttachType.TraceUprobeMulti, isReturn, pid, cookies, referenceCounterOffsets);

    private static UprobeMultiLink Attach(Program program, string path, IReadOnlyList<ulong> offsets, AttachType attachType, bool isReturn, int? pid,
        IReadOnlyList<ulong>? cookies, IReadOnlyList<ulong>? referenceCounterOffsets)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(offsets);
        if (offsets.Count == 0)
        {
            throw new ArgumentException("give at least one location", nameof(offsets));
        }
        if (cookies is not null && cookies.Count != offsets.Count || referenceCounterOffsets is not null && referenceCounterOffsets.Count != offsets.Count)
        {
            throw new ArgumentException("cookies and semaphore offsets must come one per location, or not at all");
        }
        byte[] pathBytes = Bpf.NullTerminated(path);
        ulong[] offsetArray = [.. offsets], cookieArray = cookies is null ? [] : [.. cookies], counters = referenceCounterOffsets is null ? [] : [.. referenceCounterOffsets];
        bool session = attachType == AttachType.TraceUprobeSession;
        string description = $"{(session ? "uprobe.session" : isReturn ? "uretprobe.multi" : "uprobe.multi")} link on {offsets.Count} location{(offsets.Count == 1 ? "" : "s")} in {path}";
        fixed (byte* pathPointer = pathBytes)
        fixed (ulong* offsetPointer = offsetArray, cookiePointer = cookieArray, counterPointer = counters)
        {
            ulong pathAddress = (ulong)pathPointer, offsetAddress = (ulong)offsetPointer;
            ulong cookieAddress = cookies is null ? 0 : (ulong)cookiePointer, counterAddress = referenceCounterOffsets is null ? 0 : (ulong)counterPointer;
            FileDescriptor fd = Create(program, attachType, description, (ref LinkCreateAttr attr) =>
            {
                attr.UprobeMultiPath = pathAddress;
                attr.UprobeMultiOffsets = offsetAddress;
                attr.UprobeMultiCookies = cookieAddress;
                attr.UprobeMultiRefCtrOffsets = counterAddress;
                attr.UprobeMultiCount = (uint)offsetArray.Length;
                attr.UprobeMultiFlags = isReturn ? 1u : 0;
                attr.UprobeMultiPid = (uint)(pid ?? 0);
            }, errno => errno switch
            {
                Errno.EOPNOTSUPP or Errno.ENOTSUPP or Errno.EINVAL when !Features.KernelSupport.For(Features.HookKind.UprobeMulti).IsSupported =>
                    "uprobe.multi links are not available on this kernel (Linux 6.6 or later); attach one uprobe per location",
                Errno.EOPNOTSUPP or Errno.ENOTSUPP or Errno.EINVAL when session && !Features.KernelSupport.For(Features.HookKind.UprobeSession).IsSupported =>
                    "uprobe.session links are not available on this kernel (Linux 6.13 or later); attach a uprobe and a uretprobe instead",
                Errno.EINVAL => $"the program must be a kprobe program loaded with expected attach type {attachType}, and offsets must be inside the file",
                _ => null,
            });
            return new UprobeMultiLink(fd, description, path, offsetArray.Length, isReturn, session);
        }
    }
}
