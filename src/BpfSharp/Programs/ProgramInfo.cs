using BpfSharp.Kernel;

namespace BpfSharp.Programs;

/// <summary>What the kernel reports about a loaded program (<c>struct bpf_prog_info</c>), at one moment.</summary>
public sealed class ProgramInfo
{
    internal unsafe ProgramInfo(in ProgInfoLayout info, uint[] mapIds)
    {
        Id = info.Id;
        Type = (ProgramType)info.Type;
        fixed (ProgInfoLayout* p = &info)
        {
            Name = Bpf.ReadObjectName(p->Name);
            Tag = Convert.ToHexStringLower(new ReadOnlySpan<byte>(p->Tag, BpfLimits.TagSize));
        }
        JitedSize = info.JitedProgLen;
        XlatedSize = info.XlatedProgLen;
        MapIds = mapIds;
        LoadTime = TimeSpan.FromTicks((long)(info.LoadTime / 100));
        LoadedAt = BootTime.WallClockOf(info.LoadTime);
        CreatedByUid = info.CreatedByUid;
        GplCompatible = (info.GplCompatibleBits & 1) != 0;
        Ifindex = info.Ifindex;
        BtfId = info.BtfId;
        FuncInfoCount = info.NrFuncInfo;
        LineInfoCount = info.NrLineInfo;
        VerifiedInstructions = info.VerifiedInsns;
        RunTimeNs = info.RunTimeNs;
        RunCount = info.RunCnt;
        RecursionMisses = info.RecursionMisses;
        AttachBtfObjectId = info.AttachBtfObjId;
        AttachBtfId = info.AttachBtfId;
    }

    /// <summary>The program's id.</summary>
    public uint Id { get; }

    /// <summary>The name the kernel stores (at most 15 bytes).</summary>
    public string Name { get; }

    /// <summary>The program type.</summary>
    public ProgramType Type { get; }

    /// <summary>The tag: 8 bytes (16 lowercase hex digits) of a hash over the instructions (SHA-1 before Linux 6.18, SHA-256 since), the same for identical programs.</summary>
    public string Tag { get; }

    /// <summary>The size of the JIT-compiled machine code in bytes (0 when the JIT is off).</summary>
    public uint JitedSize { get; }

    /// <summary>The size of the translated instructions in bytes, 8 per slot; the verifier's rewrites (inlined helpers, context accesses) can make it differ from what was loaded.</summary>
    public uint XlatedSize { get; }

    /// <summary>The ids of the maps the program uses.</summary>
    public IReadOnlyList<uint> MapIds { get; }

    /// <summary>When the program was loaded, as time since boot (<c>load_time</c>).</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>When the program was loaded, on the wall clock.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>The user id of the process that loaded it.</summary>
    public uint CreatedByUid { get; }

    /// <summary>True when the program's license is GPL-compatible (it may call GPL-only helpers).</summary>
    public bool GplCompatible { get; }

    /// <summary>The network device the program is offloaded or bound to, or 0.</summary>
    public uint Ifindex { get; }

    /// <summary>The id of the program's BTF object, or 0 when it was loaded without BTF.</summary>
    public uint BtfId { get; }

    /// <summary>How many function info records the program has.</summary>
    public uint FuncInfoCount { get; }

    /// <summary>How many line info records the program has.</summary>
    public uint LineInfoCount { get; }

    /// <summary>How many instructions the verifier processed (a measure of verification cost).</summary>
    public uint VerifiedInstructions { get; }

    /// <summary>Total run time in nanoseconds, counted only while run-time statistics are on (<see cref="BpfStats.EnableRunTime"/>).</summary>
    public ulong RunTimeNs { get; }

    /// <summary>Number of runs, counted only while run-time statistics are on.</summary>
    public ulong RunCount { get; }

    /// <summary>How often the program was not run because it was already running on the same CPU.</summary>
    public ulong RecursionMisses { get; }

    /// <summary>The BTF object holding the attach target (0 for vmlinux or none).</summary>
    public uint AttachBtfObjectId { get; }

    /// <summary>The BTF type id of the attach target (fentry/fexit/LSM/freplace), or 0.</summary>
    public uint AttachBtfId { get; }
}
