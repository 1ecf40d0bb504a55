using System.Buffers.Binary;
using BpfSharp.Btf;
using BpfSharp.Maps;

namespace BpfSharp.Collections;

/// <summary>
/// How one struct_ops map's object-side value maps onto the kernel's, found the way libbpf does: the kernel's ops
/// struct (<c>tcp_congestion_ops</c>) and its map value wrapper (<c>bpf_struct_ops_tcp_congestion_ops</c>, whose
/// <c>data</c> member holds the ops) in vmlinux or a module's BTF; each member of the object's struct matched to the
/// kernel's by name, data members copied when their sizes agree, function pointer members filled with program
/// descriptors. A struct_ops program is loaded against the ops struct's id with the index of the member it fills as
/// its expected attach type.
/// </summary>
internal sealed class StructOpsLayout
{
    /// <summary>The prefix of the kernel's map value type for an ops struct.</summary>
    public const string ValueTypePrefix = "bpf_struct_ops_";

    private readonly List<(uint From, uint To, int Length)> _copies = [];
    private readonly List<StructOpsFunction> _functions = [];

    private StructOpsLayout(string mapName, StructOpsSpec ops)
    {
        MapName = mapName;
        Ops = ops;
    }

    /// <summary>The map's name.</summary>
    public string MapName { get; }

    /// <summary>The object's side.</summary>
    public StructOpsSpec Ops { get; }

    /// <summary>The module whose BTF defines the ops struct, or null for vmlinux.</summary>
    public string? Module { get; private set; }

    /// <summary>The kernel ops struct's BTF id: the attach_btf_id of its programs.</summary>
    public int TypeId { get; private set; }

    /// <summary>The kernel value wrapper's BTF id: the map's btf_vmlinux_value_type_id.</summary>
    public int ValueTypeId { get; private set; }

    /// <summary>The kernel value wrapper's size: the map's value size.</summary>
    public uint ValueSize { get; private set; }

    /// <summary>The function pointer members that have a program.</summary>
    public IReadOnlyList<StructOpsFunction> Functions => _functions;

    /// <summary>Resolves <paramref name="ops"/> against the running kernel: vmlinux first, then each module with BTF.</summary>
    /// <exception cref="BpfException">The kernel lacks the struct, or a member does not match; the message says which.</exception>
    public static StructOpsLayout Resolve(string mapName, StructOpsSpec ops) =>
        Resolve(mapName, ops, KernelCandidates());

    /// <summary>Resolves <paramref name="ops"/> against the first of <paramref name="candidates"/> (a module name, null for vmlinux, and its BTF) that has the value type.</summary>
    public static StructOpsLayout Resolve(string mapName, StructOpsSpec ops, IEnumerable<(string? Module, BtfSpec Btf)> candidates)
    {
        ArgumentNullException.ThrowIfNull(ops);
        string name = ops.KernelTypeName;
        string valueName = ValueTypePrefix + name;
        foreach ((string? module, BtfSpec btf) in candidates)
        {
            if (!btf.TryFindType(valueName, BtfKind.Struct, out BtfType valueType) || module is not null && valueType.Id < btf.FirstTypeId)
            {
                continue;
            }
            if (!btf.TryFindType(name, BtfKind.Struct, out BtfType kernelType))
            {
                throw new BpfException($"struct_ops map '{mapName}': {module ?? "vmlinux"} BTF has {valueName} but no struct {name}");
            }
            var layout = new StructOpsLayout(mapName, ops)
            {
                Module = module,
                TypeId = kernelType.Id,
                ValueTypeId = valueType.Id,
                ValueSize = valueType.Size,
            };
            layout.MatchMembers(kernelType, DataOffset(mapName, valueType, kernelType));
            return layout;
        }
        throw new BpfException($"struct_ops map '{mapName}' implements struct {name}, but the kernel has no struct_ops type of that name " +
            $"(no struct {valueName} in vmlinux or module BTF): this kernel does not let BPF implement {name}, or the module that does is not loaded");
    }

    private static IEnumerable<(string? Module, BtfSpec Btf)> KernelCandidates()
    {
        yield return (null, KernelBtf.Vmlinux);
        foreach (string module in KernelBtf.ModuleNames())
        {
            BtfSpec? btf;
            try
            {
                btf = KernelBtf.Module(module);
            }
            catch (BtfException)
            {
                // Unloaded between listing and reading.
                btf = null;
            }
            if (btf is not null)
            {
                yield return (module, btf);
            }
        }
    }

    /// <summary>Where the ops struct sits in the value wrapper: the member whose type it is (libbpf's rule; the kernel names it <c>data</c>).</summary>
    private static uint DataOffset(string mapName, BtfType valueType, BtfType kernelType)
    {
        foreach (BtfMember member in valueType.Members)
        {
            if (member.TypeId == kernelType.Id)
            {
                return member.ByteOffset;
            }
        }
        throw new BpfException($"struct_ops map '{mapName}': the kernel's {valueType.Name} has no member of type struct {kernelType.Name}");
    }

    private void MatchMembers(BtfType kernelType, uint dataOffset)
    {
        BtfType local = Ops.Type;
        BtfSpec localBtf = local.Spec;
        BtfSpec kernelBtf = kernelType.Spec;
        var kernelMembers = new Dictionary<string, (BtfMember Member, int Index)>(StringComparer.Ordinal);
        int index = 0;
        foreach (BtfMember member in kernelType.Members)
        {
            if (member.Name.Length > 0)
            {
                kernelMembers.TryAdd(member.Name, (member, index));
            }
            index++;
        }
        string where = $"struct_ops map '{MapName}' (struct {local.Name})";
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (BtfMember member in local.Members)
        {
            string name = member.Name;
            known.Add(name);
            long size = localBtf.SizeOf(member.TypeId);
            if (size < 0 || member.ByteOffset + size > local.Size)
            {
                throw new BpfException($"{where}: the size of member '{name}' cannot be resolved from the object's BTF");
            }
            ReadOnlySpan<byte> value = Ops.Data.AsSpan((int)member.ByteOffset, (int)size);
            Ops.Programs.TryGetValue(name, out string? program);
            if (!kernelMembers.TryGetValue(name, out (BtfMember Member, int Index) kernel))
            {
                if (value.ContainsAnyExcept((byte)0) || program is not null)
                {
                    throw new BpfException($"{where}: member '{name}' is set, but this kernel's struct {kernelType.Name} has no member of that name; " +
                        "leave it zero (or compile against this kernel's vmlinux.h)");
                }
                // Members the kernel lacks are skipped when zero (what libbpf does), so one object serves several kernels.
                continue;
            }
            if (member.BitfieldSize != 0 || kernel.Member.BitfieldSize != 0)
            {
                throw new BpfException($"{where}: member '{name}' is a bitfield; struct_ops values cannot set bitfields");
            }
            BtfType localType = localBtf.ResolveTypedefsAndQualifiers(member.TypeId);
            BtfType kernelMemberType = kernelBtf.ResolveTypedefsAndQualifiers(kernel.Member.TypeId);
            if (localType.Kind != kernelMemberType.Kind)
            {
                throw new BpfException($"{where}: member '{name}' is {BtfSpec.KindName(localType.Kind)} in the object but {BtfSpec.KindName(kernelMemberType.Kind)} in the kernel");
            }
            uint kernelOffset = dataOffset + kernel.Member.ByteOffset;
            if (localType.Kind == BtfKind.Pointer)
            {
                if (program is null)
                {
                    if (value.ContainsAnyExcept((byte)0))
                    {
                        throw new BpfException($"{where}: member '{name}' is a pointer set to something other than a struct_ops program; only function pointers to programs can be set");
                    }
                    continue;
                }
                if (kernelBtf.ResolveTypedefsAndQualifiers(kernelMemberType.ReferencedTypeId).Kind != BtfKind.FunctionProto)
                {
                    throw new BpfException($"{where}: member '{name}' is given program '{program}', but the kernel's member is not a function pointer");
                }
                _functions.Add(new StructOpsFunction(name, kernel.Index, kernelOffset, program));
                continue;
            }
            if (program is not null)
            {
                throw new BpfException($"{where}: member '{name}' is given program '{program}', but it is not a function pointer");
            }
            long kernelSize = kernelBtf.SizeOf(kernel.Member.TypeId);
            if (kernelSize != size)
            {
                throw new BpfException($"{where}: member '{name}' is {size} bytes in the object but {kernelSize} bytes in the kernel; " +
                    "the object was compiled against another kernel's definition of the struct");
            }
            _copies.Add((member.ByteOffset, kernelOffset, (int)size));
        }
        foreach (string name in Ops.Programs.Keys)
        {
            if (!known.Contains(name))
            {
                throw new BpfException($"{where}: a program is given for member '{name}', which struct {local.Name} does not have");
            }
        }
    }

    /// <summary>The kernel value: data members copied from the object's initializer, function pointers set to the descriptors <paramref name="programFd"/> gives.</summary>
    public byte[] BuildValue(Func<string, int> programFd)
    {
        byte[] value = new byte[ValueSize];
        foreach ((uint from, uint to, int length) in _copies)
        {
            Ops.Data.AsSpan((int)from, length).CopyTo(value.AsSpan((int)to, length));
        }
        foreach (StructOpsFunction function in _functions)
        {
            // The kernel reads a program descriptor from each function pointer slot (and stores the program's id there).
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan((int)function.ValueOffset, 8), (ulong)programFd(function.Program));
        }
        return value;
    }
}

/// <summary>A function pointer member of a struct_ops value and the program that fills it.</summary>
/// <param name="Member">The member's name.</param>
/// <param name="MemberIndex">Its index in the kernel's ops struct: the program's expected attach type.</param>
/// <param name="ValueOffset">Its byte offset in the kernel's map value.</param>
/// <param name="Program">The program's name.</param>
internal readonly record struct StructOpsFunction(string Member, int MemberIndex, uint ValueOffset, string Program);
