using System.Text;
using BpfSharp.Asm;

namespace BpfSharp.Btf.Core;

/// <summary>
/// Applies CO-RE ("compile once, run everywhere") relocations: the <c>.BTF.ext</c> records clang emits
/// for <c>preserve_access_index</c> accesses and the <c>bpf_core_*</c> builtins. Each record names a
/// root type of the object's BTF, an access path and what to compute; the relocator finds the
/// target's types of the same essential name (a <c>___flavor</c> suffix ignored) and kind, walks the
/// same path through each by member names, requires every matching candidate to agree, and rewrites
/// the instruction's offset or immediate. A relocation that finds nothing poisons its instruction
/// (a call to the invalid helper <see cref="PoisonHelperId"/>), so only code that actually runs it
/// fails verification; existence checks instead resolve to 0.
/// </summary>
public static class CoreRelocator
{
    /// <summary>The helper id a poisoned instruction calls (0xbad2310, "bad relo"): the verifier rejects it as "invalid func unknown#195896080" only if it is reachable.</summary>
    public const int PoisonHelperId = 0xbad2310;

    // Deepest access path accepted, as in libbpf.
    private const int MaximumAccessLength = 64;

    /// <summary>
    /// Resolves and applies every CO-RE relocation of ELF section <paramref name="sectionName"/> to its
    /// instructions, in place: offsets and immediates are rewritten; an unresolvable relocation's
    /// instruction is replaced by a call to <see cref="PoisonHelperId"/> (an ld_imm64 by two such calls,
    /// so instruction slots do not move).
    /// </summary>
    /// <param name="sectionInstructions">The section's instructions, in order from the section start (an ld_imm64 counts as two slots).</param>
    /// <param name="sectionName">The ELF section the instructions come from, as keyed in <see cref="BtfExt.CoreRelocations"/>.</param>
    /// <param name="localBtf">The object's BTF.</param>
    /// <param name="ext">The object's <c>.BTF.ext</c>.</param>
    /// <param name="target">The BTF to relocate against, usually <see cref="CoreTarget.Running"/>.</param>
    /// <returns>What each relocation resolved to (empty when the section has none).</returns>
    /// <exception cref="CoreRelocationException">A relocation is malformed or ambiguous, or its instruction does not hold what the compiler should have put there.</exception>
    public static CoreRelocationReport Apply(List<Instruction> sectionInstructions, string sectionName, BtfSpec localBtf, BtfExt ext, CoreTarget target)
    {
        ArgumentNullException.ThrowIfNull(ext);
        ArgumentNullException.ThrowIfNull(sectionName);
        IReadOnlyList<BtfCoreRelocation> relocations = ext.CoreRelocations.TryGetValue(sectionName, out IReadOnlyList<BtfCoreRelocation>? records) ? records : [];
        return Apply(sectionInstructions, relocations, localBtf, target, sectionName);
    }

    /// <summary>Applies the given CO-RE relocation records (instruction indexes in slots from the start of <paramref name="instructions"/>) in place.</summary>
    /// <param name="instructions">The instructions the records refer to.</param>
    /// <param name="relocations">The records.</param>
    /// <param name="localBtf">The BTF the records' type ids and the instructions were compiled against.</param>
    /// <param name="target">The BTF to relocate against.</param>
    /// <param name="sectionName">The section name, for messages and the report.</param>
    /// <exception cref="CoreRelocationException">A relocation is malformed or ambiguous, or cannot be patched into its instruction.</exception>
    public static CoreRelocationReport Apply(List<Instruction> instructions, IReadOnlyList<BtfCoreRelocation> relocations, BtfSpec localBtf, CoreTarget target, string sectionName = "")
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var results = Resolve(localBtf, relocations, target, sectionName).ToArray();
        if (results.Length == 0)
        {
            return new CoreRelocationReport(sectionName, target.Description, results);
        }
        // Slot -> list index, taken before patching: poisoning an ld_imm64 turns one element into two.
        int slots = 0;
        foreach (Instruction instruction in instructions)
        {
            slots += instruction.Slots;
        }
        var indexOfSlot = new int[slots];
        indexOfSlot.AsSpan().Fill(-1);
        for (int index = 0, slot = 0; index < instructions.Count; slot += instructions[index].Slots, index++)
        {
            indexOfSlot[slot] = index;
        }
        var order = new (int ListIndex, int Result)[results.Length];
        for (int i = 0; i < results.Length; i++)
        {
            uint slot = results[i].InstructionIndex;
            if (slot >= (uint)slots || indexOfSlot[slot] < 0)
            {
                throw new CoreRelocationException($"{Describe(results[i], sectionName)}: instruction {slot} "
                    + (slot >= (uint)slots ? $"is past the end of the section ({slots} instructions)" : "is the second half of an ld_imm64")
                    + "; the object is corrupt");
            }
            order[i] = (indexOfSlot[slot], i);
        }
        // Highest index first, so inserted slots never shift an index still to be patched.
        Array.Sort(order, (a, b) => b.ListIndex != a.ListIndex ? b.ListIndex.CompareTo(a.ListIndex) : b.Result.CompareTo(a.Result));
        foreach ((int listIndex, int result) in order)
        {
            results[result] = Patch(instructions, listIndex, results[result], sectionName);
        }
        return new CoreRelocationReport(sectionName, target.Description, results);
    }

    /// <summary>What every CO-RE relocation of section <paramref name="sectionName"/> resolves to, without patching anything.</summary>
    public static IReadOnlyList<CoreRelocationResult> Resolve(BtfSpec localBtf, BtfExt ext, string sectionName, CoreTarget target)
    {
        ArgumentNullException.ThrowIfNull(ext);
        ArgumentNullException.ThrowIfNull(sectionName);
        return ext.CoreRelocations.TryGetValue(sectionName, out IReadOnlyList<BtfCoreRelocation>? records)
            ? Resolve(localBtf, records, target, sectionName)
            : [];
    }

    /// <summary>What each record resolves to, without patching; candidate lookups are shared between records of the same type.</summary>
    public static IReadOnlyList<CoreRelocationResult> Resolve(BtfSpec localBtf, IReadOnlyList<BtfCoreRelocation> relocations, CoreTarget target, string sectionName = "")
    {
        ArgumentNullException.ThrowIfNull(localBtf);
        ArgumentNullException.ThrowIfNull(relocations);
        ArgumentNullException.ThrowIfNull(target);
        var candidates = new Dictionary<int, IReadOnlyList<CoreCandidate>>();
        var results = new CoreRelocationResult[relocations.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = ResolveOne(localBtf, relocations[i], i, target, candidates, sectionName);
        }
        return results;
    }

    /// <summary>What one record resolves to, without patching.</summary>
    public static CoreRelocationResult Resolve(BtfSpec localBtf, BtfCoreRelocation relocation, CoreTarget target)
    {
        ArgumentNullException.ThrowIfNull(localBtf);
        ArgumentNullException.ThrowIfNull(target);
        return ResolveOne(localBtf, relocation, 0, target, new Dictionary<int, IReadOnlyList<CoreCandidate>>(), "");
    }

    /// <summary>libbpf's short name for a relocation kind: <c>byte_off</c>, <c>field_exists</c>, <c>enumval_value</c>, ...</summary>
    public static string KindName(BtfCoreRelocationKind kind) => kind switch
    {
        BtfCoreRelocationKind.FieldByteOffset => "byte_off",
        BtfCoreRelocationKind.FieldByteSize => "byte_sz",
        BtfCoreRelocationKind.FieldExists => "field_exists",
        BtfCoreRelocationKind.FieldSigned => "signed",
        BtfCoreRelocationKind.FieldLShiftU64 => "lshift_u64",
        BtfCoreRelocationKind.FieldRShiftU64 => "rshift_u64",
        BtfCoreRelocationKind.TypeIdLocal => "local_type_id",
        BtfCoreRelocationKind.TypeIdTarget => "target_type_id",
        BtfCoreRelocationKind.TypeExists => "type_exists",
        BtfCoreRelocationKind.TypeMatches => "type_matches",
        BtfCoreRelocationKind.TypeSize => "type_size",
        BtfCoreRelocationKind.EnumValueExists => "enumval_exists",
        BtfCoreRelocationKind.EnumValue => "enumval_value",
        _ => $"kind {(uint)kind}",
    };

    private static bool IsFieldBased(BtfCoreRelocationKind kind) => kind <= BtfCoreRelocationKind.FieldRShiftU64;

    private static bool IsTypeBased(BtfCoreRelocationKind kind) =>
        kind is BtfCoreRelocationKind.TypeIdLocal or BtfCoreRelocationKind.TypeIdTarget or BtfCoreRelocationKind.TypeExists
            or BtfCoreRelocationKind.TypeSize or BtfCoreRelocationKind.TypeMatches;

    private static bool IsEnumValueBased(BtfCoreRelocationKind kind) =>
        kind is BtfCoreRelocationKind.EnumValueExists or BtfCoreRelocationKind.EnumValue;

    private static CoreRelocationResult ResolveOne(BtfSpec localBtf, BtfCoreRelocation relocation, int index, CoreTarget target,
        Dictionary<int, IReadOnlyList<CoreCandidate>> candidateCache, string sectionName)
    {
        var result = new CoreRelocationResult
        {
            RelocationIndex = index,
            InstructionIndex = relocation.InstructionIndex,
            Kind = relocation.Kind,
            LocalTypeId = relocation.TypeId,
            AccessString = relocation.AccessString,
        };
        string where() => Describe(result, sectionName);
        if (!IsFieldBased(relocation.Kind) && !IsTypeBased(relocation.Kind) && !IsEnumValueBased(relocation.Kind))
        {
            throw new CoreRelocationException($"{where()}: unknown relocation kind {(uint)relocation.Kind}; the object needs a newer loader");
        }
        if (!localBtf.TryGetType(relocation.TypeId, out BtfType localType) || relocation.TypeId == 0)
        {
            throw new CoreRelocationException($"{where()}: local type id {relocation.TypeId} is not in the object's BTF ({localBtf.TypeIdLimit - 1} types); the object is corrupt");
        }
        CoreSpec localSpec;
        try
        {
            localSpec = ParseLocalSpec(localBtf, relocation);
        }
        catch (BtfException e)
        {
            throw new CoreRelocationException($"{where()}: {e.Message}", e);
        }
        result = result with { LocalType = CName(localType), LocalAccess = localSpec.Format() };

        if (relocation.Kind == BtfCoreRelocationKind.TypeIdLocal)
        {
            // The id may be renumbered by linking, so the instruction's value is not checked.
            return result with { OriginalValue = (ulong)relocation.TypeId, NewValue = (ulong)relocation.TypeId };
        }
        if (!localType.HasName)
        {
            throw new CoreRelocationException($"{where()}: the root type is anonymous, and CO-RE finds target types by name; give the type a name");
        }

        if (!candidateCache.TryGetValue(relocation.TypeId, out IReadOnlyList<CoreCandidate>? candidates))
        {
            try
            {
                candidates = target.FindCandidates(localType);
            }
            catch (BtfException e)
            {
                throw new CoreRelocationException($"{where()}: cannot read the target BTF of {target.Description}: {e.Message}", e);
            }
            candidateCache[relocation.TypeId] = candidates;
        }
        result = result with { CandidateCount = candidates.Count };

        Computed? chosen = null;
        CoreSpec? chosenSpec = null;
        CoreCandidate chosenCandidate = default;
        try
        {
            foreach (CoreCandidate candidate in candidates)
            {
                CoreSpec? candidateSpec = MatchSpec(localSpec, candidate.Type);
                if (candidateSpec is null)
                {
                    continue;
                }
                Computed computed = Compute(localSpec, candidateSpec, relocation.Kind);
                if (chosen is null)
                {
                    chosen = computed;
                    chosenSpec = candidateSpec;
                    chosenCandidate = candidate;
                }
                else if (candidateSpec.BitOffset != chosenSpec!.BitOffset)
                {
                    throw new CoreRelocationException($"{where()}: ambiguous: {chosenCandidate.Source} type {chosenCandidate.Type.Id} puts the field at bit {chosenSpec.BitOffset} "
                        + $"but {candidate.Source} type {candidate.Type.Id} at bit {candidateSpec.BitOffset}; rename one with a ___flavor or target one kernel");
                }
                else if (computed.Poison != chosen.Value.Poison || computed.NewValue != chosen.Value.NewValue)
                {
                    throw new CoreRelocationException($"{where()}: ambiguous: {chosenCandidate.Source} type {chosenCandidate.Type.Id} gives "
                        + (chosen.Value.Poison ? "no value" : chosen.Value.NewValue.ToString()) + $" but {candidate.Source} type {candidate.Type.Id} gives "
                        + (computed.Poison ? "no value" : computed.NewValue.ToString()) + "; all candidates must agree");
                }
            }
            chosen ??= Compute(localSpec, null, relocation.Kind);
        }
        catch (BtfException e)
        {
            throw new CoreRelocationException($"{where()}: {e.Message}", e);
        }

        Computed final = chosen.Value;
        result = result with
        {
            OriginalValue = final.OriginalValue,
            NewValue = final.Poison ? 0 : final.NewValue,
            Validate = final.Validate,
            OriginalSize = final.OriginalSize,
            NewSize = final.Poison ? 0 : final.NewSize,
            MemorySizeMismatch = final.MemorySizeMismatch,
            IsPoisoned = final.Poison,
        };
        if (chosenSpec is not null)
        {
            result = result with
            {
                TargetTypeId = chosenCandidate.Type.Id,
                TargetSource = chosenCandidate.Source,
                TargetAccess = IsTypeBased(relocation.Kind) ? null : string.Join(':', chosenSpec.Raw),
            };
        }
        if (final.Poison)
        {
            result = result with
            {
                PoisonReason = chosenSpec is not null
                    ? final.PoisonReason
                    : candidates.Count == 0
                        ? $"{target.Description} has no {BtfSpec.KindName(localType.Kind)} named '{Encoding.UTF8.GetString(CoreTypeRules.EssentialName(localType.NameBytes))}'"
                        : $"{result.LocalAccess} matches none of the {candidates.Count} candidate type(s) in {target.Description}",
            };
        }
        return result;
    }

    // ---- access specs ----------------------------------------------------------------------------

    /// <summary>One step of an access path: a named member, an array element, or an enumerator.</summary>
    private readonly record struct Accessor(int TypeId, int Index, byte[]? Name);

    /// <summary>A resolved access path in one BTF: the named accessors, the raw indexes and the bit offset reached.</summary>
    private sealed class CoreSpec(BtfSpec btf, int rootTypeId, BtfCoreRelocationKind kind)
    {
        public BtfSpec Btf { get; } = btf;
        public int RootTypeId { get; } = rootTypeId;
        public BtfCoreRelocationKind Kind { get; } = kind;
        public List<Accessor> Accessors { get; } = [];
        public List<int> Raw { get; } = [];
        public long BitOffset { get; set; }

        public string Format()
        {
            var text = new StringBuilder(CName(Btf[RootTypeId]));
            if (IsTypeBased(Kind) || Accessors.Count == 0)
            {
                return text.ToString();
            }
            if (IsEnumValueBased(Kind))
            {
                return text.Append("::").Append(Encoding.UTF8.GetString(Accessors[0].Name!)).ToString();
            }
            for (int i = 0; i < Accessors.Count; i++)
            {
                Accessor accessor = Accessors[i];
                if (accessor.Name is not null)
                {
                    text.Append('.').Append(Encoding.UTF8.GetString(accessor.Name));
                }
                else if (i > 0 || accessor.Index != 0)
                {
                    text.Append('[').Append(accessor.Index).Append(']');
                }
            }
            return text.ToString();
        }
    }

    private static CoreSpec ParseLocalSpec(BtfSpec btf, BtfCoreRelocation relocation)
    {
        var spec = new CoreSpec(btf, relocation.TypeId, relocation.Kind);
        string access = relocation.AccessString;
        if (IsTypeBased(relocation.Kind))
        {
            if (access != "0")
            {
                throw new BtfException($"a type relocation's access string must be \"0\", not \"{access}\"");
            }
            return spec;
        }
        if (access.Length == 0)
        {
            throw new BtfException("the access string is empty");
        }
        foreach (string part in access.Split(':'))
        {
            if (part.Length == 0 || part.Length > 9 || !part.All(char.IsAsciiDigit))
            {
                throw new BtfException($"access string \"{access}\" is not a list of indexes such as 0:1:2");
            }
            if (spec.Raw.Count == MaximumAccessLength)
            {
                throw new BtfException($"access string \"{access}\" is longer than {MaximumAccessLength} steps");
            }
            spec.Raw.Add(int.Parse(part, System.Globalization.CultureInfo.InvariantCulture));
        }

        BtfType type = btf.ResolveTypedefsAndQualifiers(relocation.TypeId);
        int first = spec.Raw[0];
        if (IsEnumValueBased(relocation.Kind))
        {
            if (!type.IsEnum || spec.Raw.Count > 1 || first >= type.VariableLength)
            {
                throw new BtfException($"access string \"{access}\" does not name an enumerator of {CName(type)}");
            }
            spec.Accessors.Add(new Accessor(type.Id, first, type.Enumerators[first].NameBytes.ToArray()));
            return spec;
        }

        spec.Accessors.Add(new Accessor(type.Id, first, null));
        spec.BitOffset = first * btf.SizeOf(type.Id) * 8;
        int id = type.Id;
        for (int i = 1; i < spec.Raw.Count; i++)
        {
            type = btf.ResolveTypedefsAndQualifiers(id);
            int step = spec.Raw[i];
            if (type.IsComposite)
            {
                if (step >= type.VariableLength)
                {
                    throw new BtfException($"access string \"{access}\": step {i} asks for member {step} of {CName(type)}, which has {type.VariableLength}");
                }
                BtfMember member = type.Members[step];
                spec.BitOffset += member.BitOffset;
                // Anonymous members (embedded structs and unions) are part of the path but not matched by name.
                if (member.NameOffset != 0)
                {
                    spec.Accessors.Add(new Accessor(type.Id, step, member.NameBytes.ToArray()));
                }
                id = member.TypeId;
            }
            else if (type.Kind == BtfKind.Array)
            {
                BtfArray array = type.Array;
                BtfType element = btf.ResolveTypedefsAndQualifiers(array.ElementTypeId);
                if (!IsFlexibleArray(btf, spec.Accessors[^1], array) && step >= array.Count)
                {
                    throw new BtfException($"access string \"{access}\": index {step} is past the end of a {array.Count}-element array");
                }
                spec.Accessors.Add(new Accessor(element.Id, step, null));
                spec.BitOffset += step * btf.SizeOf(element.Id) * 8;
                id = element.Id;
            }
            else
            {
                throw new BtfException($"access string \"{access}\": step {i} indexes into {CName(type)}, which is neither a struct, a union nor an array");
            }
        }
        return spec;
    }

    // A zero-length array that is the last member of its struct can be indexed past its (zero) length.
    private static bool IsFlexibleArray(BtfSpec btf, Accessor enclosing, BtfArray array)
    {
        if (enclosing.Name is null || array.Count > 0)
        {
            return false;
        }
        return enclosing.Index == btf[enclosing.TypeId].VariableLength - 1;
    }

    /// <summary>Walks the local spec's path through <paramref name="candidate"/>; null when it does not fit.</summary>
    private static CoreSpec? MatchSpec(CoreSpec local, BtfType candidate)
    {
        BtfSpec targetBtf = candidate.Spec;
        var target = new CoreSpec(targetBtf, candidate.Id, local.Kind);
        if (IsTypeBased(local.Kind))
        {
            bool matches = local.Kind == BtfCoreRelocationKind.TypeMatches
                ? CoreTypeRules.TypesMatch(local.Btf, local.RootTypeId, targetBtf, candidate.Id)
                : CoreTypeRules.TypesCompatible(local.Btf, local.RootTypeId, targetBtf, candidate.Id);
            return matches ? target : null;
        }
        int targetId = candidate.Id;
        if (IsEnumValueBased(local.Kind))
        {
            BtfType enumType = targetBtf.ResolveTypedefsAndQualifiers(targetId);
            if (!enumType.IsEnum)
            {
                return null;
            }
            byte[] name = local.Accessors[0].Name!;
            BtfList<BtfEnumerator> enumerators = enumType.Enumerators;
            for (int i = 0; i < enumerators.Count; i++)
            {
                if (CoreTypeRules.EssentialNamesEqual(name, enumerators[i].NameBytes))
                {
                    target.Accessors.Add(new Accessor(enumType.Id, i, enumerators[i].NameBytes.ToArray()));
                    target.Raw.Add(i);
                    return target;
                }
            }
            return null;
        }
        for (int i = 0; i < local.Accessors.Count; i++)
        {
            Accessor accessor = local.Accessors[i];
            BtfType targetType = targetBtf.ResolveTypedefsAndQualifiers(targetId);
            targetId = targetType.Id;
            if (accessor.Name is not null)
            {
                if (!MatchMember(local.Btf, accessor, targetBtf, targetId, target, out targetId, 0))
                {
                    return null;
                }
                continue;
            }
            // The first accessor indexes the root itself (pointer arithmetic); later ones index arrays.
            if (i > 0)
            {
                if (targetType.Kind != BtfKind.Array)
                {
                    return null;
                }
                BtfArray array = targetType.Array;
                if (!IsFlexibleArray(targetBtf, target.Accessors[^1], array) && accessor.Index >= array.Count)
                {
                    return null;
                }
                targetId = targetBtf.ResolveTypedefsAndQualifiers(array.ElementTypeId).Id;
            }
            if (target.Raw.Count == MaximumAccessLength)
            {
                throw new BtfException($"the target's path for \"{string.Join(':', local.Raw)}\" nests more than {MaximumAccessLength} levels");
            }
            target.Accessors.Add(new Accessor(targetId, accessor.Index, null));
            target.Raw.Add(accessor.Index);
            target.BitOffset += accessor.Index * targetBtf.SizeOf(targetId) * 8;
        }
        return target;
    }

    /// <summary>
    /// Finds the member named like the local accessor's in target composite <paramref name="targetId"/>,
    /// looking through anonymous struct and union members; it must have a compatible type.
    /// </summary>
    private static bool MatchMember(BtfSpec localBtf, Accessor accessor, BtfSpec targetBtf, int targetId, CoreSpec target, out int nextTargetId, int depth)
    {
        nextTargetId = 0;
        BtfType targetType = targetBtf.ResolveTypedefsAndQualifiers(targetId);
        if (!targetType.IsComposite)
        {
            return false;
        }
        if (depth > MaximumAccessLength)
        {
            throw new BtfException($"target type {targetType.Id} nests anonymous members more than {MaximumAccessLength} deep");
        }
        BtfMember localMember = localBtf[accessor.TypeId].Members[accessor.Index];
        BtfList<BtfMember> members = targetType.Members;
        for (int i = 0; i < members.Count; i++)
        {
            BtfMember member = members[i];
            if (target.Raw.Count == MaximumAccessLength)
            {
                throw new BtfException($"the target's path nests more than {MaximumAccessLength} levels");
            }
            // Speculatively step into this member; undone below if it is not the one.
            target.BitOffset += member.BitOffset;
            target.Raw.Add(i);
            if (member.NameOffset == 0 || member.NameBytes.IsEmpty)
            {
                if (MatchMember(localBtf, accessor, targetBtf, member.TypeId, target, out nextTargetId, depth + 1))
                {
                    return true;
                }
            }
            else if (member.NameBytes.SequenceEqual(accessor.Name))
            {
                // Names agree: this is the field, compatible or not; an incompatible type ends the search.
                if (!CoreTypeRules.FieldsCompatible(localBtf, localMember.TypeId, targetBtf, member.TypeId))
                {
                    return false;
                }
                target.Accessors.Add(new Accessor(targetType.Id, i, accessor.Name));
                nextTargetId = member.TypeId;
                return true;
            }
            target.BitOffset -= member.BitOffset;
            target.Raw.RemoveAt(target.Raw.Count - 1);
        }
        return false;
    }

    // ---- values ----------------------------------------------------------------------------------

    private readonly record struct Computed(ulong OriginalValue, ulong NewValue, bool Poison, string? PoisonReason, bool Validate,
        int OriginalSize, int NewSize, bool MemorySizeMismatch);

    private readonly record struct FieldValue(ulong Value, int Size, int TypeId, bool Validate, bool Poison, string? Reason);

    private static Computed Compute(CoreSpec local, CoreSpec? target, BtfCoreRelocationKind kind)
    {
        if (IsFieldBased(kind))
        {
            FieldValue original = FieldRelocation(local, kind);
            FieldValue updated = FieldRelocation(target, kind);
            if (updated.Poison)
            {
                return new Computed(original.Value, 0, true, updated.Reason, original.Validate, original.Size, 0, false);
            }
            bool mismatch = false;
            if (original.Size != updated.Size)
            {
                BtfType originalType = local.Btf[original.TypeId];
                BtfType newType = target!.Btf[updated.TypeId];
                // A load can shrink or grow only where zero extension keeps the value: pointers and unsigned integers.
                bool pointers = originalType.Kind == BtfKind.Pointer && newType.Kind == BtfKind.Pointer;
                bool unsigned = originalType.Kind == BtfKind.Int && newType.Kind == BtfKind.Int
                    && (originalType.IntEncoding & BtfIntEncoding.Signed) == 0 && (newType.IntEncoding & BtfIntEncoding.Signed) == 0;
                mismatch = !pointers && !unsigned;
            }
            return new Computed(original.Value, updated.Value, false, null, original.Validate, original.Size, updated.Size, mismatch);
        }
        if (IsTypeBased(kind))
        {
            ulong originalValue = TypeRelocation(local, kind);
            ulong newValue = target is null ? 0 : TypeRelocation(target, kind);
            // Type ids change when objects are linked, so the compiler's id is not checked.
            return new Computed(originalValue, newValue, false, null, kind != BtfCoreRelocationKind.TypeIdTarget, 0, 0, false);
        }
        ulong enumOriginal = EnumRelocation(local, kind);
        if (target is null && kind == BtfCoreRelocationKind.EnumValue)
        {
            return new Computed(enumOriginal, 0, true, null, true, 0, 0, false);
        }
        return new Computed(enumOriginal, target is null ? 0 : EnumRelocation(target, kind), false, null, true, 0, 0, false);
    }

    private static ulong TypeRelocation(CoreSpec spec, BtfCoreRelocationKind kind) => kind switch
    {
        BtfCoreRelocationKind.TypeIdTarget => (ulong)spec.RootTypeId,
        BtfCoreRelocationKind.TypeExists or BtfCoreRelocationKind.TypeMatches => 1,
        BtfCoreRelocationKind.TypeSize => (ulong)spec.Btf.SizeOf(spec.RootTypeId),
        _ => throw new BtfException($"{KindName(kind)} is not a type relocation"),
    };

    private static ulong EnumRelocation(CoreSpec spec, BtfCoreRelocationKind kind)
    {
        if (kind == BtfCoreRelocationKind.EnumValueExists)
        {
            return 1;
        }
        Accessor accessor = spec.Accessors[0];
        BtfType enumType = spec.Btf[accessor.TypeId];
        BtfEnumerator enumerator = enumType.Enumerators[accessor.Index];
        // A 32-bit enumerator is a signed 32-bit value in BTF and is sign-extended, as libbpf does; ENUM64 values are taken whole.
        return enumType.Kind == BtfKind.Enum ? (ulong)(long)(int)(uint)enumerator.RawValue : enumerator.RawValue;
    }

    private static FieldValue FieldRelocation(CoreSpec? spec, BtfCoreRelocationKind kind)
    {
        if (kind == BtfCoreRelocationKind.FieldExists)
        {
            return new FieldValue(spec is null ? 0UL : 1UL, 0, 0, true, false, null);
        }
        if (spec is null)
        {
            return new FieldValue(0, 0, 0, false, true, null);
        }
        Accessor last = spec.Accessors[^1];
        BtfSpec btf = spec.Btf;
        if (last.Name is null)
        {
            // An array element (or the root itself): only its offset and size make sense.
            int elementSize = checked((int)btf.SizeOf(last.TypeId));
            return kind switch
            {
                BtfCoreRelocationKind.FieldByteOffset => new FieldValue((ulong)(spec.BitOffset / 8), elementSize, last.TypeId, true, false, null),
                BtfCoreRelocationKind.FieldByteSize => new FieldValue((ulong)elementSize, 0, 0, true, false, null),
                _ => throw new BtfException($"{KindName(kind)} cannot be applied to an array element or the root type; it needs a named field"),
            };
        }
        BtfType owner = btf[last.TypeId];
        BtfMember member = owner.Members[last.Index];
        BtfType memberType = btf.ResolveTypedefsAndQualifiers(member.TypeId);
        long bitOffset = spec.BitOffset;
        int bitSize = member.BitfieldSize;
        bool bitfield = bitSize > 0;
        long byteOffset;
        long byteSize;
        if (bitfield)
        {
            // The smallest naturally aligned load of at least the member type's size that covers the bits.
            byteSize = memberType.Size;
            if (byteSize == 0)
            {
                throw new BtfException($"bitfield '{member.Name}' has a zero-size type");
            }
            byteOffset = bitOffset / 8 / byteSize * byteSize;
            while (bitOffset + bitSize - byteOffset * 8 > byteSize * 8)
            {
                if (byteSize >= 8)
                {
                    throw new BtfException($"bitfield '{member.Name}' ({bitSize} bits at bit {bitOffset}) cannot be read with one 64-bit load");
                }
                byteSize *= 2;
                byteOffset = bitOffset / 8 / byteSize * byteSize;
            }
        }
        else
        {
            byteSize = btf.SizeOf(member.TypeId);
            byteOffset = bitOffset / 8;
            bitSize = checked((int)(byteSize * 8));
        }
        int fieldTypeId = btf.ResolveTypedefsAndQualifiers(member.TypeId).Id;
        switch (kind)
        {
            case BtfCoreRelocationKind.FieldByteOffset:
                // Bitfields are read at whatever offset their load needs; the compiler may have chosen differently.
                return bitfield
                    ? new FieldValue((ulong)byteOffset, 0, 0, false, false, null)
                    : new FieldValue((ulong)byteOffset, checked((int)byteSize), fieldTypeId, true, false, null);
            case BtfCoreRelocationKind.FieldByteSize:
                return new FieldValue((ulong)byteSize, 0, 0, !bitfield, false, null);
            case BtfCoreRelocationKind.FieldSigned:
                bool signed = (memberType.IsEnum && memberType.IsSignedEnum)
                    || (memberType.Kind == BtfKind.Int && (memberType.IntEncoding & BtfIntEncoding.Signed) != 0);
                return new FieldValue(signed ? 1UL : 0UL, 0, 0, true, false, null);
            case BtfCoreRelocationKind.FieldLShiftU64:
                // Little-endian: shift the field's top bit up to bit 63 of the loaded value.
                return new FieldValue((ulong)(64 - (bitOffset + bitSize - byteOffset * 8)), 0, 0, !bitfield, false, null);
            case BtfCoreRelocationKind.FieldRShiftU64:
                return new FieldValue((ulong)(64 - bitSize), 0, 0, true, false, null);
            default:
                throw new BtfException($"{KindName(kind)} is not a field relocation");
        }
    }

    // ---- patching --------------------------------------------------------------------------------

    private static CoreRelocationResult Patch(List<Instruction> instructions, int index, CoreRelocationResult result, string sectionName)
    {
        Instruction instruction = instructions[index];
        if (result.IsPoisoned)
        {
            Poison(instructions, index);
            return result;
        }
        ulong newValue = result.NewValue;
        string where() => $"{Describe(result, sectionName)}: instruction {result.InstructionIndex} ({instruction})";
        switch (instruction.Class)
        {
            case InstructionClass.Alu or InstructionClass.Alu64:
            {
                if (instruction.Source != OperandSource.Constant)
                {
                    throw new CoreRelocationException($"{where()}: an ALU relocation needs an immediate operand");
                }
                if (result.Validate && (ulong)instruction.Constant != result.OriginalValue)
                {
                    throw Unexpected(where(), "immediate", instruction.Constant, result);
                }
                bool fits = instruction.Class == InstructionClass.Alu64
                    ? (long)newValue is >= int.MinValue and <= int.MaxValue
                    : newValue <= uint.MaxValue || (long)newValue >= int.MinValue;
                if (!fits)
                {
                    throw new CoreRelocationException($"{where()}: the value {newValue} does not fit the instruction's 32-bit immediate");
                }
                instructions[index] = instruction with { Constant = unchecked((int)newValue) };
                return result;
            }
            case InstructionClass.LoadX or InstructionClass.Store or InstructionClass.StoreX:
            {
                if (result.Validate && (ulong)(long)instruction.Offset != result.OriginalValue)
                {
                    throw Unexpected(where(), "offset", instruction.Offset, result);
                }
                if (newValue > (ulong)short.MaxValue)
                {
                    throw new CoreRelocationException($"{where()}: the offset {newValue} does not fit a load or store's 16-bit offset (at most {short.MaxValue})");
                }
                if (result.MemorySizeMismatch)
                {
                    Poison(instructions, index);
                    return result with
                    {
                        IsPoisoned = true,
                        PoisonReason = $"the field is {result.OriginalSize} bytes here but {result.NewSize} in the target, and a load cannot be resized for it; access pointers, unsigned integers or fields of matching size",
                    };
                }
                Instruction patched = instruction with { Offset = (short)newValue };
                if (result.NewSize != result.OriginalSize && result.Kind == BtfCoreRelocationKind.FieldByteOffset)
                {
                    if (instruction.AccessBytes != result.OriginalSize)
                    {
                        throw new CoreRelocationException($"{where()}: it accesses {instruction.AccessBytes} bytes but the field is {result.OriginalSize} bytes");
                    }
                    AccessSize size = result.NewSize switch
                    {
                        1 => AccessSize.Byte,
                        2 => AccessSize.Half,
                        4 => AccessSize.Word,
                        8 => AccessSize.DoubleWord,
                        _ => throw new CoreRelocationException($"{where()}: the target field is {result.NewSize} bytes, which no single load or store accesses"),
                    };
                    patched = patched with { OpCode = (byte)((instruction.OpCode & ~0x18) | (int)size) };
                }
                instructions[index] = patched;
                return result;
            }
            case InstructionClass.Load when instruction.IsLoadImm64:
            {
                if (instruction.Src != Register.R0 || instruction.Offset != 0)
                {
                    throw new CoreRelocationException($"{where()}: an ld_imm64 relocation needs a plain 64-bit constant load");
                }
                if (result.Validate && (ulong)instruction.Constant != result.OriginalValue)
                {
                    throw Unexpected(where(), "constant", instruction.Constant, result);
                }
                instructions[index] = instruction with { Constant = unchecked((long)newValue) };
                return result;
            }
            default:
                throw new CoreRelocationException($"{where()}: CO-RE can patch only ALU immediates, load/store offsets and ld_imm64 constants");
        }
    }

    private static CoreRelocationException Unexpected(string where, string what, long actual, CoreRelocationResult result) =>
        new($"{where}: the {what} is {actual}, but the object's BTF says the compiler put {result.OriginalValue} there; the instruction and its BTF disagree (a corrupt or mislinked object)");

    // A reachable poisoned instruction fails verification with "invalid func unknown#195896080";
    // an unreachable one is removed by the verifier as dead code. An ld_imm64 becomes two calls,
    // so that its second slot is not a confusing "unknown opcode 00".
    private static void Poison(List<Instruction> instructions, int index)
    {
        Instruction instruction = instructions[index];
        var poison = new Instruction { OpCode = OpCodes.Call, Constant = PoisonHelperId };
        instructions[index] = poison with { Symbol = instruction.Symbol };
        if (instruction.IsLoadImm64)
        {
            instructions.Insert(index + 1, poison);
        }
    }

    private static string Describe(CoreRelocationResult result, string sectionName) =>
        $"CO-RE relocation #{result.RelocationIndex} ({KindName(result.Kind)} of {(result.LocalAccess.Length > 0 ? result.LocalAccess : $"type {result.LocalTypeId}")}, access \"{result.AccessString}\") "
        + $"at instruction {result.InstructionIndex}{(sectionName.Length > 0 ? $" of section '{sectionName}'" : "")}";

    private static string CName(BtfType type) => type.Kind switch
    {
        BtfKind.Void => "void",
        BtfKind.Struct => "struct " + NameOrAnonymous(type),
        BtfKind.Union => "union " + NameOrAnonymous(type),
        BtfKind.Enum or BtfKind.Enum64 => "enum " + NameOrAnonymous(type),
        BtfKind.Forward => (type.IsForwardUnion ? "union " : "struct ") + type.Name,
        _ => type.HasName ? type.Name : type.Describe(),
    };

    private static string NameOrAnonymous(BtfType type) => type.HasName ? type.Name : "(anon)";
}
