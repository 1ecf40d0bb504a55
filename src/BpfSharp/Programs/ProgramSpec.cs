using BpfSharp.Asm;
using BpfSharp.Kernel;

namespace BpfSharp.Programs;

/// <summary>
/// Everything needed to load one program, as plain editable data: read from an object file or
/// built in code, inspected and changed, then handed to <see cref="Program.Load"/>.
/// </summary>
public sealed class ProgramSpec
{
    /// <summary>
    /// The program's name. The kernel keeps at most 15 bytes of letters, digits, '_' and '.';
    /// a longer name or other characters are shortened or replaced in what the kernel stores,
    /// while <see cref="Program.Name"/> keeps this full name.
    /// </summary>
    public string Name { get; set; } = "";

    /// <summary>The program type: what it attaches to and which context it gets.</summary>
    public ProgramType Type { get; set; }

    /// <summary>
    /// The attach kind the program is verified for (<c>expected_attach_type</c>); required by
    /// some types (cgroup socket address hooks, sk_lookup, fentry/fexit, ...), null for none.
    /// </summary>
    public AttachType? ExpectedAttachType { get; set; }

    /// <summary>The program's code.</summary>
    public IReadOnlyList<Instruction> Instructions { get; set; } = [];

    /// <summary>
    /// The license string. Helpers marked GPL-only (tracing output, probe reads, ...) need a
    /// GPL-compatible license such as <c>"GPL"</c> or <c>"Dual MIT/GPL"</c>.
    /// </summary>
    public string License { get; set; } = "";

    /// <summary>The kernel version the program was built for (<c>kern_version</c>); only kernels before 5.0 check it, for kprobes.</summary>
    public uint KernelVersion { get; set; }

    /// <summary>Load flags (<c>prog_flags</c>).</summary>
    public ProgramFlags Flags { get; set; }

    /// <summary>The BTF type id of the attach target (fentry/fexit/LSM/freplace/struct_ops/iterators), or 0.</summary>
    public uint AttachBtfId { get; set; }

    /// <summary>
    /// Where <see cref="AttachBtfId"/> lives when it is not in vmlinux: a loaded program (for
    /// freplace and fentry on a BPF program) or a kernel module's BTF object. Null for vmlinux.
    /// Not owned by the spec.
    /// </summary>
    public FileDescriptor? AttachTarget { get; set; }

    /// <summary>The program's BTF object (needed for <see cref="FuncInfo"/> and <see cref="LineInfo"/>), or null. Not owned by the spec.</summary>
    public FileDescriptor? Btf { get; set; }

    /// <summary>Raw <c>bpf_func_info</c> records, each <see cref="FuncInfoRecordSize"/> bytes, or null.</summary>
    public byte[]? FuncInfo { get; set; }

    /// <summary>The size of one <see cref="FuncInfo"/> record (8 for the current layout).</summary>
    public uint FuncInfoRecordSize { get; set; }

    /// <summary>Raw <c>bpf_line_info</c> records, each <see cref="LineInfoRecordSize"/> bytes, or null.</summary>
    public byte[]? LineInfo { get; set; }

    /// <summary>The size of one <see cref="LineInfo"/> record (16 for the current layout).</summary>
    public uint LineInfoRecordSize { get; set; }

    /// <summary>
    /// Descriptors (maps, BTF objects of modules) that instructions refer to by index into this
    /// array (<c>fd_array</c>), or null. Not owned by the spec.
    /// </summary>
    public IReadOnlyList<FileDescriptor>? FdArray { get; set; }

    /// <summary>The network device the program is offloaded to or bound to (<c>prog_ifindex</c>), or 0.</summary>
    public int Ifindex { get; set; }

    /// <summary>The ELF section the program was read from (its <c>SEC("...")</c> name), or <see langword="null"/> for programs built in code.</summary>
    public string? SectionName { get; set; }

    /// <summary>
    /// What the program attaches to, from its section name: the tracepoint of <c>tracepoint/syscalls/sys_enter_read</c>,
    /// the function of <c>fentry/do_unlinkat</c>; empty when the section names no target.
    /// </summary>
    public string AttachTo { get; set; } = "";

    /// <summary>
    /// Whether a collection loads this program (libbpf's autoload); turn it off to skip a program the running
    /// kernel cannot load. Default: <see langword="true"/>.
    /// </summary>
    public bool Autoload { get; set; } = true;

    /// <summary>A copy whose instruction list and raw records can be changed without touching this spec; descriptors are shared.</summary>
    public ProgramSpec Copy() => new()
    {
        Name = Name,
        Type = Type,
        ExpectedAttachType = ExpectedAttachType,
        Instructions = [.. Instructions],
        License = License,
        KernelVersion = KernelVersion,
        Flags = Flags,
        AttachBtfId = AttachBtfId,
        AttachTarget = AttachTarget,
        Btf = Btf,
        FuncInfo = (byte[]?)FuncInfo?.Clone(),
        FuncInfoRecordSize = FuncInfoRecordSize,
        LineInfo = (byte[]?)LineInfo?.Clone(),
        LineInfoRecordSize = LineInfoRecordSize,
        FdArray = FdArray is null ? null : [.. FdArray],
        Ifindex = Ifindex,
        SectionName = SectionName,
        AttachTo = AttachTo,
        Autoload = Autoload,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Type} program '{Name}' ({Instructions.Count} instructions)";
}
