using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// One kprobe program attached to many kernel functions at once (BPF_TRACE_KPROBE_MULTI, fprobe
/// based, kernels since 5.18 with CONFIG_FPROBE), or as a session (BPF_TRACE_KPROBE_SESSION, 6.10):
/// entry and return, the return skipped when the entry run returns non-zero.
/// </summary>
public sealed unsafe class KprobeMultiLink : Link
{
    private KprobeMultiLink(FileDescriptor fd, string description, int count, bool isReturn, bool isSession) : base(fd, description)
    {
        Count = count;
        IsReturn = isReturn;
        IsSession = isSession;
    }

    /// <summary>True for a session link: the program runs at entry and return (bpf_session_is_return tells which).</summary>
    public bool IsSession { get; }

    /// <summary>
    /// Attaches a session program to every function in <paramref name="functions"/> (BPF_TRACE_KPROBE_SESSION,
    /// Linux 6.10 with kprobe.multi): it runs at each call's entry and, unless that entry run returned non-zero,
    /// at its return.
    /// </summary>
    /// <param name="program">A kprobe program loaded with expected attach type TraceKprobeSession (section <c>kprobe.session</c>).</param>
    /// <param name="functions">Kernel function names.</param>
    /// <param name="cookies">One BPF cookie per function, or null.</param>
    /// <exception cref="BpfException">The kernel has no kprobes or no kprobe sessions (the message names what is missing and the alternatives), a function cannot be probed, or the kernel refused.</exception>
    public static KprobeMultiLink AttachSession(Program program, IReadOnlyList<string> functions, IReadOnlyList<ulong>? cookies = null) =>
        Attach(program, functions, AttachType.TraceKprobeSession, isReturn: false, cookies);

    /// <summary>How many functions are probed.</summary>
    public int Count { get; }

    /// <summary>True for return probes.</summary>
    public bool IsReturn { get; }

    /// <summary>Attaches to every function in <paramref name="functions"/>.</summary>
    /// <param name="program">A kprobe program loaded with expected attach type TraceKprobeMulti.</param>
    /// <param name="functions">Kernel function names.</param>
    /// <param name="isReturn">Probe their returns (BPF_F_KPROBE_MULTI_RETURN).</param>
    /// <param name="cookies">One BPF cookie per function, or null.</param>
    /// <exception cref="BpfException">The kernel has no kprobe.multi (EOPNOTSUPP: the message names the kernel option and the alternatives), a function cannot be probed, or the kernel refused.</exception>
    public static KprobeMultiLink Attach(Program program, IReadOnlyList<string> functions, bool isReturn = false, IReadOnlyList<ulong>? cookies = null) =>
        Attach(program, functions, AttachType.TraceKprobeMulti, isReturn, cookies);

    private static KprobeMultiLink Attach(Program program, IReadOnlyList<string> functions, AttachType attachType, bool isReturn, IReadOnlyList<ulong>? cookies)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(functions);
        if (functions.Count == 0)
        {
            throw new ArgumentException("give at least one function", nameof(functions));
        }
        if (cookies is not null && cookies.Count != functions.Count)
        {
            throw new ArgumentException("give one cookie per function, or none", nameof(cookies));
        }
        byte[][] names = [.. functions.Select(Bpf.NullTerminated)];
        var handles = names.Select(n => System.Runtime.InteropServices.GCHandle.Alloc(n, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
        try
        {
            ulong[] pointers = [.. handles.Select(h => (ulong)h.AddrOfPinnedObject())];
            ulong[] cookieArray = cookies is null ? [] : [.. cookies];
            bool session = attachType == AttachType.TraceKprobeSession;
            string description = $"{(session ? "kprobe.session" : isReturn ? "kretprobe.multi" : "kprobe.multi")} link on {functions.Count} function{(functions.Count == 1 ? "" : "s")} ({functions[0]}{(functions.Count > 1 ? ", ..." : "")})";
            fixed (ulong* symbols = pointers, cookiePointer = cookieArray)
            {
                ulong symbolsAddress = (ulong)symbols, cookiesAddress = cookies is null ? 0 : (ulong)cookiePointer;
                FileDescriptor fd = Create(program, attachType, description, (ref LinkCreateAttr attr) =>
                {
                    attr.KprobeMultiFlags = isReturn ? 1u : 0;
                    attr.KprobeMultiCount = (uint)functions.Count;
                    attr.KprobeMultiSyms = symbolsAddress;
                    attr.KprobeMultiCookies = cookiesAddress;
                }, errno => Hint(errno, attachType));
                return new KprobeMultiLink(fd, description, functions.Count, isReturn, session);
            }
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Free();
            }
        }
    }

    private static string? Hint(Errno errno, AttachType attachType) => errno switch
    {
        Errno.EOPNOTSUPP or Errno.ENOTSUPP when attachType == AttachType.TraceKprobeSession =>
            "kprobe.session links are not available on this kernel: they are kprobe.multi links (CONFIG_FPROBE and CONFIG_KPROBES) with session support (Linux 6.10 or later)"
            + (Features.KernelSupport.For(Features.HookKind.Kprobe).IsSupported ? "" : $"; {Features.KernelSupport.For(Features.HookKind.Kprobe).Detail}")
            + "; attach a kprobe and a kretprobe, or use fentry/fexit, tracepoints or raw tracepoints",
        Errno.EINVAL when attachType == AttachType.TraceKprobeSession && !Features.KernelSupport.For(Features.HookKind.KprobeSession).IsSupported =>
            "kprobe.session links are not available on this kernel (Linux 6.10 or later, with kprobe.multi); attach a kprobe and a kretprobe instead",
        Errno.EOPNOTSUPP or Errno.ENOTSUPP =>
            "kprobe.multi links are not available on this kernel (it needs CONFIG_FPROBE and CONFIG_KPROBES, Linux 5.18 or later); attach one kprobe per function, or use fentry, tracepoints or raw tracepoints",
        Errno.ESRCH or Errno.ENOENT => "a function is not in /proc/kallsyms or cannot be probed (inlined, notrace or blacklisted)",
        Errno.EINVAL => $"the program must be a kprobe program loaded with expected attach type {attachType}",
        _ => null,
    };
}
