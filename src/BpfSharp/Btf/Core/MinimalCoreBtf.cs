using BpfSharp.Specs;

namespace BpfSharp.Btf.Core;

/// <summary>
/// The smallest BTF of a kernel that the given objects' CO-RE relocations resolve against exactly as they do against
/// the kernel's whole BTF (what <c>bpftool gen min_core_btf</c> writes, the BTFGen idea): a file of a few KiB to ship
/// beside an application for kernels that have no <c>/sys/kernel/btf/vmlinux</c>, passed to
/// <see cref="CoreTarget.FromFile"/>.
/// </summary>
/// <remarks>
/// Every relocation is resolved against the full BTF first; then, for a field relocation, each struct and union on
/// its access path is kept with only the members the path goes through (at their offsets, the type's size kept); a
/// type relocation (exists, size, id) keeps its type by kind, name and size, which is all libbpf compares there; a
/// <c>matches</c> relocation keeps its type whole, and an enumerator relocation its enum. A pointer on a path is kept
/// as a pointer to void unless its target is kept for another reason. What a type kept whole holds by value is kept
/// too, and what it points to by name and size. The output is byte for byte what bpftool writes for the same input. Types keep their names, sizes and kinds, so candidate matching finds the same ones.
/// </remarks>
public static class MinimalCoreBtf
{
    /// <summary>Builds the minimal BTF of <paramref name="target"/> for <paramref name="objects"/>, as raw BTF bytes.</summary>
    /// <param name="target">The kernel's whole BTF (a vmlinux BTF file, or <see cref="KernelBtf.Vmlinux"/>).</param>
    /// <param name="objects">The objects whose relocations must resolve.</param>
    /// <exception cref="BtfException">The target BTF is inconsistent.</exception>
    public static byte[] Build(BtfSpec target, IEnumerable<CollectionSpec> objects)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(objects);
        var marks = new Marks(target);
        CoreTarget core = CoreTarget.FromSpec(target, description: "the BTF being minimized");
        foreach (CollectionSpec spec in objects)
        {
            if (spec.Btf is null || spec.BtfExt is null)
            {
                continue;
            }
            foreach (string section in spec.BtfExt.CoreRelocations.Keys)
            {
                foreach (CoreRelocationResult result in CoreRelocator.Resolve(spec.Btf, spec.BtfExt, section, core))
                {
                    if (!result.IsPoisoned && result.TargetTypeId > 0)
                    {
                        marks.Relocation(result);
                    }
                }
            }
        }
        return marks.Write();
    }

    /// <summary>What is kept: types, and for structs and unions kept by name and size, the members some path uses.</summary>
    private sealed class Marks(BtfSpec btf)
    {
        private readonly HashSet<int> _types = [];
        private readonly HashSet<int> _whole = [];
        private readonly Dictionary<int, SortedSet<int>> _members = [];

        internal void Relocation(CoreRelocationResult result)
        {
            switch (result.Kind)
            {
                case BtfCoreRelocationKind.FieldByteOffset or BtfCoreRelocationKind.FieldByteSize or BtfCoreRelocationKind.FieldExists
                    or BtfCoreRelocationKind.FieldSigned or BtfCoreRelocationKind.FieldLShiftU64 or BtfCoreRelocationKind.FieldRShiftU64:
                    Path(result.TargetTypeId, result.TargetAccess ?? "0");
                    break;
                case BtfCoreRelocationKind.TypeMatches or BtfCoreRelocationKind.EnumValueExists or BtfCoreRelocationKind.EnumValue:
                    // Matching compares members (recursively), and an enumerator needs its enum: keep the type whole.
                    Whole(result.TargetTypeId);
                    break;
                default:
                    // Exists, size and id compare a struct or union by kind, name and size only.
                    Shallow(result.TargetTypeId);
                    break;
            }
        }

        /// <summary>The access path <c>0:3:1</c> from <paramref name="root"/>: the first index steps over the root pointer, then members and array elements.</summary>
        private void Path(int root, string access)
        {
            int[] steps = [.. access.Split(':').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];
            int current = root;
            Shallow(current);
            for (int i = 1; i < steps.Length; i++)
            {
                BtfType type = Through(current);
                if (type.IsComposite)
                {
                    if (!_members.TryGetValue(type.Id, out SortedSet<int>? used))
                    {
                        _members[type.Id] = used = [];
                    }
                    used.Add(steps[i]);
                    current = type.Members[steps[i]].TypeId;
                }
                else if (type.Kind == BtfKind.Array)
                {
                    current = type.Array.ElementTypeId;
                }
                else
                {
                    throw new BtfException($"CO-RE access {access} from type {root} steps into {type.Describe()}");
                }
                Shallow(current);
            }
        }

        /// <summary>Marks the typedefs and qualifiers from <paramref name="id"/> to what they name, and returns that.</summary>
        private BtfType Through(int id)
        {
            BtfType type = btf[id];
            for (int depth = 0; depth < BtfSpec.MaximumNestingDepth && type.Kind is BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag; depth++)
            {
                _types.Add(type.Id);
                type = type.ReferencedType;
            }
            return type;
        }

        /// <summary>
        /// Keeps a type by name and size: a struct or union with only the members paths use, a pointer without what it
        /// points to (field relocations only ask that a pointer be a pointer), an array with its element kept so,
        /// everything else whole.
        /// </summary>
        private void Shallow(int id)
        {
            if (id == 0)
            {
                return;
            }
            BtfType type = Through(id);
            switch (type.Kind)
            {
                case BtfKind.Struct or BtfKind.Union or BtfKind.Pointer:
                    _types.Add(type.Id);
                    break;
                case BtfKind.Array:
                    _types.Add(type.Id);
                    Shallow(type.Array.ElementTypeId);
                    Whole(type.Array.IndexTypeId);
                    break;
                default:
                    Whole(type.Id);
                    break;
            }
        }

        /// <summary>Keeps a type whole: every member of a struct, and what it holds by value; pointers keep their targets shallow.</summary>
        private void Whole(int id)
        {
            if (id == 0 || !_whole.Add(id))
            {
                return;
            }
            BtfType type = btf[id];
            _types.Add(id);
            switch (type.Kind)
            {
                case BtfKind.Struct or BtfKind.Union:
                    for (int i = 0; i < type.Members.Count; i++)
                    {
                        Whole(type.Members[i].TypeId);
                    }
                    break;
                case BtfKind.Array:
                    Whole(type.Array.ElementTypeId);
                    Whole(type.Array.IndexTypeId);
                    break;
                case BtfKind.Pointer:
                    BehindPointer(type.ReferencedTypeId);
                    break;
                case BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    Whole(type.ReferencedTypeId);
                    break;
                case BtfKind.FunctionProto:
                    Whole(type.ReferencedTypeId);
                    foreach (BtfParameter parameter in type.Parameters)
                    {
                        Whole(parameter.TypeId);
                    }
                    break;
            }
        }

        /// <summary>
        /// What a type kept whole points to: matching compares a struct or union behind a pointer by name only, and
        /// anything else as it is, through further pointers.
        /// </summary>
        private void BehindPointer(int id)
        {
            if (id == 0)
            {
                return;
            }
            BtfType type = Through(id);
            if (type.IsComposite)
            {
                _types.Add(type.Id);
            }
            else if (type.Kind == BtfKind.Pointer)
            {
                if (_types.Add(type.Id))
                {
                    BehindPointer(type.ReferencedTypeId);
                }
            }
            else
            {
                Whole(type.Id);
            }
        }

        /// <summary>The kept types as BTF, renumbered in their original order.</summary>
        internal byte[] Write()
        {
            // Members that paths use need their types (by name and size) too.
            foreach ((int owner, SortedSet<int> used) in _members.ToList())
            {
                foreach (int index in used)
                {
                    Shallow(btf[owner].Members[index].TypeId);
                }
            }
            int[] kept = [.. _types.Order()];
            var renumbered = new Dictionary<int, int> { [0] = 0 };
            for (int i = 0; i < kept.Length; i++)
            {
                renumbered[kept[i]] = i + 1;
            }
            int New(int id) => renumbered.TryGetValue(id, out int mapped) ? mapped : 0; // an unkept pointer target: void
            var builder = new BtfBuilder();
            foreach (int id in kept)
            {
                builder.Add(Definition(btf[id], New));
            }
            return builder.Build();
        }

        private BtfTypeDefinition Definition(BtfType type, Func<int, int> map)
        {
            string? name = type.HasName ? type.Name : null;
            switch (type.Kind)
            {
                case BtfKind.Int:
                    return BtfTypeDefinition.Int(type.Name, type.Size, type.IntEncoding, type.IntBits);
                case BtfKind.Float:
                    return BtfTypeDefinition.Float(type.Name, type.Size);
                case BtfKind.Pointer:
                    return BtfTypeDefinition.Pointer(map(type.ReferencedTypeId));
                case BtfKind.Const:
                    return BtfTypeDefinition.Const(map(type.ReferencedTypeId));
                case BtfKind.Volatile:
                    return BtfTypeDefinition.Volatile(map(type.ReferencedTypeId));
                case BtfKind.Restrict:
                    return BtfTypeDefinition.Restrict(map(type.ReferencedTypeId));
                case BtfKind.Typedef:
                    return BtfTypeDefinition.Typedef(type.Name, map(type.ReferencedTypeId));
                case BtfKind.TypeTag:
                    return BtfTypeDefinition.TypeTag(type.Name, map(type.ReferencedTypeId));
                case BtfKind.Array:
                    return BtfTypeDefinition.Array(map(type.Array.ElementTypeId), map(type.Array.IndexTypeId), type.Array.Count);
                case BtfKind.Struct or BtfKind.Union:
                    IEnumerable<int> members = _whole.Contains(type.Id) ? Enumerable.Range(0, type.Members.Count)
                        : _members.TryGetValue(type.Id, out SortedSet<int>? used) ? used : [];
                    BtfMemberDefinition[] kept = [.. members.Select(i => type.Members[i])
                        .Select(m => new BtfMemberDefinition(m.Name.Length == 0 ? null : m.Name, map(m.TypeId), m.BitOffset, m.BitfieldSize))];
                    return type.Kind == BtfKind.Struct ? BtfTypeDefinition.Struct(name, type.Size, kept) : BtfTypeDefinition.Union(name, type.Size, kept);
                case BtfKind.Enum:
                    return BtfTypeDefinition.Enum(name, type.Size, type.IsSignedEnum, type.Enumerators.Select(e => new BtfEnumeratorDefinition(e.Name, e.IsSigned ? e.Value : (long)e.RawValue)));
                case BtfKind.Enum64:
                    return BtfTypeDefinition.Enum64(name, type.Size, type.IsSignedEnum, type.Enumerators.Select(e => new BtfEnumeratorDefinition(e.Name, (long)e.RawValue)));
                case BtfKind.Forward:
                    return BtfTypeDefinition.Forward(type.Name, type.IsForwardUnion);
                case BtfKind.FunctionProto:
                    return BtfTypeDefinition.FunctionProto(map(type.ReferencedTypeId),
                        type.Parameters.Select(p => new BtfParameterDefinition(p.Name.Length == 0 ? null : p.Name, map(p.TypeId))));
                default:
                    throw new BtfException($"{type.Describe()} is not a type CO-RE relocations reach");
            }
        }
    }
}
