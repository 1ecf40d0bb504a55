using System.Text;
using BpfSharp.Asm;
using BpfSharp.Kernel;

namespace BpfSharp.Programs;

/// <summary>
/// A program loaded into the kernel. Owns its file descriptor: disposing it closes the
/// descriptor, and the kernel frees the program once nothing else (a link, a pin, another
/// descriptor) holds it.
/// </summary>
public sealed unsafe class Program : IDisposable
{
    private static readonly LoadOptions DefaultLoadOptions = new();
    private uint _id;

    private Program(FileDescriptor fd, string name, ProgramType type, string? verifierLog)
    {
        Fd = fd;
        Name = name;
        Type = type;
        VerifierLog = verifierLog;
    }

    /// <summary>The program's file descriptor.</summary>
    public FileDescriptor Fd { get; }

    /// <summary>The program's name: the spec's full name, or the kernel's (at most 15 bytes) for a program opened by id or pin.</summary>
    public string Name { get; }

    /// <summary>The program type.</summary>
    public ProgramType Type { get; }

    /// <summary>The verifier log of the load, when <see cref="LoadOptions.CaptureLog"/> asked for it; otherwise null.</summary>
    public string? VerifierLog { get; }

    /// <summary>The kernel's id for the program (stable for the program's lifetime, unlike the descriptor).</summary>
    public uint Id
    {
        get
        {
            if (_id == 0)
            {
                _id = GetInfo().Id;
            }
            return _id;
        }
    }

    /// <summary>
    /// Loads a program. The first attempt goes without a verifier log (fast); if the kernel
    /// refuses, the load is repeated with a log so that the error can say why.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is not loadable as given (no instructions, bad record sizes).</exception>
    /// <exception cref="VerifierException">The verifier rejected the program; the exception carries its log.</exception>
    /// <exception cref="BpfException">The kernel refused the load for another reason.</exception>
    public static Program Load(ProgramSpec spec, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= DefaultLoadOptions;
        Validate(spec, options);

        byte[] code = InstructionEncoding.Encode(spec.Instructions);
        byte[] license = Bpf.NullTerminated(spec.License ?? "");
        using var borrowed = new BorrowedDescriptors();
        int[] fdArray = spec.FdArray is null ? [] : [.. spec.FdArray.Select(borrowed.Add)];
        fixed (byte* codePointer = code, licensePointer = license, funcInfo = spec.FuncInfo, lineInfo = spec.LineInfo)
        fixed (int* fdArrayPointer = fdArray)
        {
            var attr = new ProgLoadAttr
            {
                ProgType = (uint)spec.Type,
                InsnCount = (uint)(code.Length / InstructionEncoding.SlotSize),
                Insns = (ulong)codePointer,
                License = (ulong)licensePointer,
                KernVersion = spec.KernelVersion,
                ProgFlags = (uint)spec.Flags,
                ProgIfindex = (uint)spec.Ifindex,
                ExpectedAttachType = spec.ExpectedAttachType is AttachType attachType ? (uint)attachType : 0,
                ProgBtfFd = (uint)borrowed.Add(spec.Btf),
                AttachBtfId = spec.AttachBtfId,
                AttachProgFdOrBtfObjFd = (uint)borrowed.Add(spec.AttachTarget),
                FdArray = spec.FdArray is null ? 0 : (ulong)fdArrayPointer,
                // No count: the array is only as long as the instructions' references need. A count
                // would bind every map in it to the program, and kernels without the field reject it (E2BIG).
                FdArrayCount = 0,
            };
            if (spec.FuncInfo is { Length: > 0 })
            {
                attr.FuncInfo = (ulong)funcInfo;
                attr.FuncInfoRecSize = spec.FuncInfoRecordSize;
                attr.FuncInfoCount = (uint)(spec.FuncInfo.Length / spec.FuncInfoRecordSize);
            }
            if (spec.LineInfo is { Length: > 0 })
            {
                attr.LineInfo = (ulong)lineInfo;
                attr.LineInfoRecSize = spec.LineInfoRecordSize;
                attr.LineInfoCount = (uint)(spec.LineInfo.Length / spec.LineInfoRecordSize);
            }
            Bpf.WriteObjectName(KernelName(spec.Name), attr.ProgName);

            string description = $"program '{spec.Name}'";
            if (!options.CaptureLog)
            {
                int fd = Bpf.TryCall(BpfCommand.ProgLoad, ref attr, out Errno errno);
                if (fd >= 0)
                {
                    return new Program(new FileDescriptor(fd, description), spec.Name, spec.Type, null);
                }
                // EPERM, E2BIG (too many instructions, or a field this kernel does not know) and
                // ENOMEM are decided before the verifier runs: a log would stay empty.
                if (errno is Errno.EPERM or Errno.E2BIG or Errno.ENOMEM)
                {
                    throw LoadFailure(spec, errno);
                }
            }

            LogAttempt attempt = LoadWithLog(ref attr, options);
            if (attempt.Fd >= 0)
            {
                return new Program(new FileDescriptor(attempt.Fd, description), spec.Name, spec.Type, options.CaptureLog ? attempt.Log : null);
            }
            if (attempt.Errno == Errno.ENOSPC && attempt.Truncated && options.CaptureLog)
            {
                // The log outgrew the largest buffer allowed; since kernel 6.4 that alone fails the
                // load. The program itself may be fine: load it without a log, keep what we have.
                attr.LogLevel = 0;
                attr.LogSize = 0;
                attr.LogBuf = 0;
                int fd = Bpf.TryCall(BpfCommand.ProgLoad, ref attr, out Errno errno);
                if (fd >= 0)
                {
                    return new Program(new FileDescriptor(fd, description), spec.Name, spec.Type, attempt.Log);
                }
                attempt = attempt with { Errno = errno };
            }
            if (attempt.Errno != Errno.EPERM && attempt.Log.AsSpan().Trim().Length > 0)
            {
                throw new VerifierException(spec.Name, attempt.Errno, attempt.Log, attempt.Truncated);
            }
            throw LoadFailure(spec, attempt.Errno);
        }
    }

    /// <summary>Opens the program with the given id (it stays loaded while the returned object holds it).</summary>
    /// <exception cref="BpfException">No program has that id (ENOENT), or the caller may not open it.</exception>
    public static Program FromId(uint id) =>
        FromDescriptor(Bpf.GetFdById(BpfCommand.ProgGetFdById, id, "program"));

    /// <summary>Opens a program pinned in bpffs.</summary>
    /// <exception cref="BpfException">Nothing is pinned there, or the path is not in a bpffs.</exception>
    /// <exception cref="ArgumentException">What is pinned there is not a program (a map or a link).</exception>
    public static Program OpenPinned(string path, ObjectAccess access = ObjectAccess.ReadWrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileDescriptor fd = Bpf.ObjGet(path, "program", access);
        BpfObjectKind kind = BpfObjectKinds.Of(fd);
        if (kind != BpfObjectKind.Program)
        {
            fd.Dispose();
            string what = kind == BpfObjectKind.Unknown ? "not a program" : $"a {kind.ToString().ToLowerInvariant()}, not a program";
            throw new ArgumentException($"the object pinned at {path} is {what}", nameof(path));
        }
        return FromDescriptor(fd);
    }

    /// <summary>The ids of every program loaded in the kernel, in ascending order.</summary>
    public static IReadOnlyList<uint> AllIds() => Bpf.AllIds(BpfCommand.ProgGetNextId);

    /// <summary>
    /// What the kernel reports about every program in the system. Programs freed between listing and opening are
    /// skipped, since the list is a snapshot of a moving system.
    /// </summary>
    public static IEnumerable<ProgramInfo> All()
    {
        foreach (uint id in AllIds())
        {
            using FileDescriptor? fd = Bpf.TryGetFdById(BpfCommand.ProgGetFdById, id, "program");
            if (fd is not null)
            {
                yield return ReadInfo(fd);
            }
        }
    }

    /// <summary>A fresh snapshot of what the kernel reports about the program.</summary>
    public ProgramInfo GetInfo() => ReadInfo(Fd);

    private static ProgramInfo ReadInfo(FileDescriptor fd)
    {
        var info = new ProgInfoLayout();
        Bpf.GetInfo(fd, ref info);
        if (info.NrMapIds == 0)
        {
            return new ProgramInfo(in info, []);
        }
        // A second call with room for the map ids; its counts are the ones that go with the ids.
        uint[] mapIds = new uint[info.NrMapIds];
        fixed (uint* ids = mapIds)
        {
            var withMaps = new ProgInfoLayout { NrMapIds = (uint)mapIds.Length, MapIds = (ulong)ids };
            Bpf.GetInfo(fd, ref withMaps);
            int count = (int)Math.Min(withMaps.NrMapIds, (uint)mapIds.Length);
            return new ProgramInfo(in withMaps, mapIds[..count]);
        }
    }

    /// <summary>
    /// The instructions as the kernel runs them after verification and rewriting (xlated), with
    /// map references shown as map ids. Needs root (the kernel withholds them otherwise).
    /// </summary>
    public IReadOnlyList<Instruction> GetTranslatedInstructions()
    {
        var info = new ProgInfoLayout();
        Bpf.GetInfo(Fd, ref info);
        if (info.XlatedProgLen == 0)
        {
            return [];
        }
        byte[] code = new byte[info.XlatedProgLen];
        fixed (byte* pointer = code)
        {
            var withCode = new ProgInfoLayout { XlatedProgLen = (uint)code.Length, XlatedProgInsns = (ulong)pointer };
            Bpf.GetInfo(Fd, ref withCode);
            if (withCode.XlatedProgInsns == 0)
            {
                throw new BpfException(
                    $"the kernel withholds the translated instructions of {Fd.Description} from this process; reading them needs root (CAP_SYS_ADMIN)");
            }
            int length = (int)Math.Min(withCode.XlatedProgLen, (uint)code.Length);
            return InstructionEncoding.Decode(code.AsSpan(0, length));
        }
    }

    /// <summary>
    /// Pins the program at <paramref name="path"/> in bpffs, so that it outlives this process.
    /// Delete the file to unpin it.
    /// </summary>
    /// <exception cref="BpfException">The path is not in a bpffs, or something is pinned there already.</exception>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Bpf.ObjPin(Fd, path);
    }

    /// <summary>
    /// Runs the program once or <see cref="TestRunOptions.Repeat"/> times on the given input
    /// (<c>BPF_PROG_TEST_RUN</c>), without attaching it anywhere.
    /// </summary>
    /// <remarks>
    /// If the program's output is larger than the buffers given, the run is repeated with buffers
    /// the size the kernel reported, so a program with side effects (map updates) sees them twice.
    /// Set <see cref="TestRunOptions.DataOutSize"/> to avoid that. A flow dissector's output is the
    /// <c>struct bpf_flow_keys</c> it filled (56 bytes), whatever the packet's size: that is its default room.
    /// </remarks>
    /// <exception cref="BpfException">The kernel refused the run (a type without test runs, input of the wrong size).</exception>
    public TestRunResult TestRun(TestRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DataOutSize < 0 || options.ContextOutSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "output sizes must not be negative");
        }
        int dataCapacity = options.DataOutSize ?? (Type == ProgramType.FlowDissector ? FlowKeysSize : options.Data.Length);
        // Raw tracepoint, tracing, syscall and struct_ops runs reject a ctx_out buffer (EINVAL), so
        // the context is echoed back by default only for types whose runs can return it.
        int contextCapacity = options.ContextOutSize ?? (ReturnsContext(Type) ? options.Context.Length : 0);
        uint flags = (uint)options.Flags | (options.Cpu is null ? 0 : (uint)TestRunFlags.RunOnCpu);

        using FileDescriptor.Lease lease = Fd.Borrow();
        // Two attempts suffice: the second uses the sizes the kernel reported for the first.
        for (int attempt = 0; ; attempt++)
        {
            byte[] dataOut = new byte[dataCapacity];
            byte[] contextOut = new byte[contextCapacity];
            fixed (byte* dataIn = options.Data.Span, contextIn = options.Context.Span, dataOutPointer = dataOut, contextOutPointer = contextOut)
            {
                var attr = new TestRunAttr
                {
                    ProgFd = (uint)lease.Fd,
                    DataIn = (ulong)dataIn,
                    DataSizeIn = (uint)options.Data.Length,
                    // Never pass a data_out pointer with size 0: the kernel reads 0 as "no limit".
                    DataOut = dataCapacity > 0 ? (ulong)dataOutPointer : 0,
                    DataSizeOut = (uint)dataCapacity,
                    CtxIn = (ulong)contextIn,
                    CtxSizeIn = (uint)options.Context.Length,
                    CtxOut = contextCapacity > 0 ? (ulong)contextOutPointer : 0,
                    CtxSizeOut = (uint)contextCapacity,
                    Repeat = options.Repeat,
                    Flags = flags,
                    Cpu = options.Cpu ?? 0,
                    BatchSize = options.BatchSize,
                };
                if (Bpf.TryCall(BpfCommand.ProgTestRun, ref attr, out Errno errno) >= 0)
                {
                    return new TestRunResult(
                        attr.Retval,
                        attr.Duration,
                        dataOut[..(int)Math.Min(attr.DataSizeOut, (uint)dataCapacity)],
                        contextOut[..(int)Math.Min(attr.CtxSizeOut, (uint)contextCapacity)]);
                }
                bool outputTooSmall = attr.DataSizeOut > (uint)dataCapacity && dataCapacity > 0
                    || attr.CtxSizeOut > (uint)contextCapacity && contextCapacity > 0;
                if (errno == Errno.ENOSPC && outputTooSmall && attempt == 0)
                {
                    dataCapacity = Math.Max(dataCapacity, (int)attr.DataSizeOut);
                    contextCapacity = Math.Max(contextCapacity, (int)attr.CtxSizeOut);
                    continue;
                }
                throw new BpfException(BpfCommands.Name(BpfCommand.ProgTestRun), errno, $"test run of {Fd.Description}", TestRunHint(errno));
            }
        }
    }

    /// <summary>sizeof(struct bpf_flow_keys): what a flow dissector's test run writes to data_out.</summary>
    private const int FlowKeysSize = 56;

    private static bool ReturnsContext(ProgramType type) => type is not (ProgramType.RawTracepoint
        or ProgramType.RawTracepointWritable or ProgramType.Tracing or ProgramType.Syscall or ProgramType.StructOps);

    /// <summary>Closes the program's descriptor.</summary>
    public void Dispose() => Fd.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"{Type} program '{Name}'";

    private static Program FromDescriptor(FileDescriptor fd)
    {
        try
        {
            var info = new ProgInfoLayout();
            Bpf.GetInfo(fd, ref info);
            string name = Bpf.ReadObjectName(info.Name);
            fd.Description = $"program '{name}' (id {info.Id})";
            return new Program(fd, name, (ProgramType)info.Type, null) { _id = info.Id };
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private readonly record struct LogAttempt(int Fd, Errno Errno, string Log, bool Truncated);

    /// <summary>Loads with a verifier log, growing the buffer until the whole log fits or the cap is reached.</summary>
    private static LogAttempt LoadWithLog(ref ProgLoadAttr attr, LoadOptions options)
    {
        VerifierLogLevel level = options.LogLevel == VerifierLogLevel.None ? VerifierLogLevel.Basic : options.LogLevel;
        int cap = Math.Clamp(options.MaxLogSize, LoadOptions.MinimumLogSize, LoadOptions.MaximumLogSize);
        int size = Math.Clamp(options.InitialLogSize, LoadOptions.MinimumLogSize, cap);
        while (true)
        {
            byte[] buffer = new byte[size];
            int fd;
            Errno errno;
            fixed (byte* log = buffer)
            {
                attr.LogLevel = (uint)level;
                attr.LogSize = (uint)size;
                attr.LogBuf = (ulong)log;
                attr.LogTrueSize = 0;
                fd = Bpf.TryCall(BpfCommand.ProgLoad, ref attr, out errno);
            }
            // ENOSPC means the log did not fit. Kernels since 6.4 report the size it needs
            // (log_true_size, counting the NUL); older ones do not, so double.
            if (fd < 0 && errno == Errno.ENOSPC && size < cap)
            {
                long needed = attr.LogTrueSize > (uint)size ? attr.LogTrueSize : 2L * size;
                size = (int)Math.Min(needed, cap);
                continue;
            }
            bool truncated = fd < 0 && errno == Errno.ENOSPC;
            return new LogAttempt(fd, errno, TextOf(buffer), truncated);
        }
    }

    private static string TextOf(byte[] buffer)
    {
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    private static void Validate(ProgramSpec spec, LoadOptions options)
    {
        if (spec.Instructions is null || spec.Instructions.Count == 0)
        {
            throw new ArgumentException($"program '{spec.Name}' has no instructions", nameof(spec));
        }
        ValidateRecords(spec.FuncInfo, spec.FuncInfoRecordSize, "FuncInfo", spec);
        ValidateRecords(spec.LineInfo, spec.LineInfoRecordSize, "LineInfo", spec);
        if ((spec.FuncInfo is { Length: > 0 } || spec.LineInfo is { Length: > 0 }) && spec.Btf is null)
        {
            throw new ArgumentException($"program '{spec.Name}' has function or line info but no BTF object to resolve it against (set ProgramSpec.Btf)", nameof(spec));
        }
        if (options.InitialLogSize <= 0 || options.MaxLogSize <= 0)
        {
            throw new ArgumentException("log sizes must be positive", nameof(options));
        }
    }

    private static void ValidateRecords(byte[]? records, uint recordSize, string what, ProgramSpec spec)
    {
        if (records is not { Length: > 0 })
        {
            return;
        }
        if (recordSize == 0 || records.Length % recordSize != 0)
        {
            throw new ArgumentException(
                $"program '{spec.Name}': {what} is {records.Length} bytes, not a whole number of {recordSize}-byte records", nameof(spec));
        }
    }

    /// <summary>The name the kernel accepts: at most 15 bytes of [A-Za-z0-9_.], other characters replaced by '_'.</summary>
    internal static string KernelName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "";
        }
        var text = new StringBuilder(BpfLimits.ObjectNameLength - 1);
        foreach (char c in name)
        {
            if (text.Length == BpfLimits.ObjectNameLength - 1)
            {
                break;
            }
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        }
        return text.ToString();
    }

    private static BpfException LoadFailure(ProgramSpec spec, Errno errno)
    {
        string? hint = errno switch
        {
            Errno.EPERM when Errors.IsRoot =>
                $"the kernel refuses to load {DescribeKind(spec)} programs on this machine even for root: a kernel lockdown, a security module or the kernel's " +
                "configuration denies this program kind, and raising memory limits will not change that; use another program kind " +
                "(a tracepoint or raw tracepoint instead of fentry/fexit, for example)",
            Errno.E2BIG =>
                $"the program has {InstructionEncoding.CountSlots(spec.Instructions)} instruction slots: over the kernel's limit " +
                "(1,000,000 for privileged loads, 4,096 otherwise), or the kernel is older than a field this load sets",
            Errno.EINVAL =>
                $"the kernel rejected the load attributes without a verifier log: check the program type ({spec.Type}), its expected attach type " +
                $"({spec.ExpectedAttachType?.ToString() ?? "none"}), the flags ({spec.Flags}) and the attach target this type needs",
            _ => Errors.CommandHint(BpfCommand.ProgLoad, errno),
        };
        return new BpfException(BpfCommands.Name(BpfCommand.ProgLoad), errno, $"loading program '{spec.Name}'", hint);
    }

    private static string DescribeKind(ProgramSpec spec) =>
        spec.ExpectedAttachType is AttachType attach ? $"{spec.Type} ({attach})" : spec.Type.ToString();

    private static string? TestRunHint(Errno errno) => errno switch
    {
        Errno.ENOTSUPP or Errno.EOPNOTSUPP => "this program type cannot be test-run (BPF_PROG_TEST_RUN supports packet, tracing, syscall and a few other types)",
        Errno.EINVAL => "the kernel rejected the test input: packet programs need at least 14 bytes (an Ethernet header) of data, a context must be the " +
            "program type's context struct with only the fields the kernel lets tests set, and flags, cpu and batch size must suit the type",
        Errno.ENOSPC => "the output did not fit in the buffers given",
        _ => Errors.CommandHint(BpfCommand.ProgTestRun, errno),
    };
}
