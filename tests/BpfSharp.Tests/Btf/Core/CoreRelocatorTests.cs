using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using static BpfSharp.Tests.Btf.Core.CoreTestBtf;
using Kind = BpfSharp.Btf.BtfCoreRelocationKind;

namespace BpfSharp.Tests.Btf.Core;

/// <summary>CO-RE resolution and patching against BTF built in code: pure, no kernel.</summary>
public sealed class CoreRelocatorTests
{
    private static BtfCoreRelocation R(uint slot, int type, string access, Kind kind) => new(slot, type, access, kind);

    private static CoreRelocationResult Resolve(CoreTestBtf local, BtfCoreRelocation relocation, CoreTestBtf target) =>
        CoreRelocator.Resolve(local.Spec, relocation, CoreTarget.FromSpec(target.Spec));

    private static CoreRelocationReport Apply(List<Instruction> code, CoreTestBtf local, CoreTestBtf target, params BtfCoreRelocation[] relocations) =>
        CoreRelocator.Apply(code, relocations, local.Spec, CoreTarget.FromSpec(target.Spec), "test");

    private static bool IsPoison(Instruction instruction) => instruction.IsHelperCall && instruction.Constant == CoreRelocator.PoisonHelperId;

    // struct foo { int a; int b; } locally; the target inserts a long in front and moves both.
    private static (CoreTestBtf Local, int LocalFoo, CoreTestBtf Target, int TargetFoo) MovedFields()
    {
        var local = new CoreTestBtf();
        int localFoo = local.Struct("foo", 8, M("a", local.Int, 0), M("b", local.Int, 32));
        var target = new CoreTestBtf();
        int targetFoo = target.Struct("foo", 16, M("pad", target.Long, 0), M("a", target.Int, 64), M("b", target.Int, 96));
        return (local, localFoo, target, targetFoo);
    }

    [Fact]
    public void Moved_fields_get_the_target_offsets()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, int targetFoo) = MovedFields();
        List<Instruction> code =
        [
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 4),
            Instruction.LoadMemory(AccessSize.Word, Register.R2, Register.R1, 0),
            Instruction.Exit(),
        ];
        CoreRelocationReport report = Apply(code, local, target, R(0, foo, "0:1", Kind.FieldByteOffset), R(1, foo, "0:0", Kind.FieldByteOffset));
        Assert.Equal(12, code[0].Offset);
        Assert.Equal(8, code[1].Offset);
        Assert.Equal(AccessSize.Word, code[0].Size);
        CoreRelocationResult b = report.Relocations[0];
        Assert.Equal((4UL, 12UL, false, targetFoo, "0:2"), (b.OriginalValue, b.NewValue, b.IsPoisoned, b.TargetTypeId, b.TargetAccess));
        Assert.Equal("struct foo.b", b.LocalAccess);
        Assert.Equal(0, report.PoisonedCount);
        Assert.Contains("byte_off struct foo.b (0:1): 4 -> 12", report.ToString());
    }

    [Fact]
    public void Flavors_are_ignored_when_matching_type_names()
    {
        var local = new CoreTestBtf();
        int flavored = local.Struct("foo___v2", 4, M("b", local.Int, 0));
        (_, _, CoreTestBtf target, int targetFoo) = MovedFields();
        CoreRelocationResult result = Resolve(local, R(0, flavored, "0:0", Kind.FieldByteOffset), target);
        Assert.Equal((0UL, 12UL, targetFoo), (result.OriginalValue, result.NewValue, result.TargetTypeId));

        // The target's own flavor suffix is ignored too.
        var flavoredTarget = new CoreTestBtf();
        int old = flavoredTarget.Struct("foo___old", 8, M("x", flavoredTarget.Int, 0), M("b", flavoredTarget.Int, 32));
        CoreRelocationResult againstFlavor = Resolve(local, R(0, flavored, "0:0", Kind.FieldByteOffset), flavoredTarget);
        Assert.Equal((4UL, old), (againstFlavor.NewValue, againstFlavor.TargetTypeId));
    }

    [Fact]
    public void Essential_names_drop_only_a_well_formed_flavor_suffix()
    {
        static string Essential(string name) => System.Text.Encoding.UTF8.GetString(CoreTypeRules.EssentialName(System.Text.Encoding.UTF8.GetBytes(name)));
        Assert.Equal("task_struct", Essential("task_struct___flavor"));
        Assert.Equal("a___b", Essential("a___b___c"));
        Assert.Equal("foo____x", Essential("foo____x"));
        Assert.Equal("foo___", Essential("foo___"));
        Assert.Equal("___x", Essential("___x"));
        Assert.Equal("plain", Essential("plain"));
    }

    [Fact]
    public void Missing_field_reads_zero_for_exists_and_poisons_the_access()
    {
        var local = new CoreTestBtf();
        int foo = local.Struct("foo", 8, M("a", local.Int, 0), M("gone", local.Int, 32));
        var target = new CoreTestBtf();
        target.Struct("foo", 4, M("a", target.Int, 0));
        List<Instruction> code =
        [
            Instruction.Move64(Register.R3, 1),
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 4),
            Instruction.Move64(Register.R4, 4),
            Instruction.LoadMemory(AccessSize.Word, Register.R5, Register.R1, 0),
            Instruction.Exit(),
        ];
        CoreRelocationReport report = Apply(code, local, target,
            R(0, foo, "0:1", Kind.FieldExists), R(1, foo, "0:1", Kind.FieldByteOffset), R(2, foo, "0:1", Kind.FieldByteSize), R(3, foo, "0:0", Kind.FieldByteOffset));
        Assert.Equal(0, code[0].Constant);
        Assert.True(IsPoison(code[1]));
        Assert.True(IsPoison(code[2]));
        Assert.Equal(0, code[3].Offset);
        Assert.Equal(5, code.Count);
        Assert.Equal([false, true, true, false], report.Relocations.Select(r => r.IsPoisoned));
        Assert.Contains("matches none of the 1 candidate", report.Relocations[1].PoisonReason);
        Assert.Equal((1UL, 0UL), (report.Relocations[0].OriginalValue, report.Relocations[0].NewValue));
    }

    [Fact]
    public void Missing_type_poisons_field_accesses_and_gives_zero_for_type_questions()
    {
        var local = new CoreTestBtf();
        int gone = local.Struct("gone", 8, M("a", local.Int, 0));
        var target = new CoreTestBtf();
        target.Struct("other", 8, M("a", target.Int, 0));
        CoreRelocationResult access = Resolve(local, R(0, gone, "0:0", Kind.FieldByteOffset), target);
        Assert.True(access.IsPoisoned);
        Assert.Equal("the given BTF has no STRUCT named 'gone'", access.PoisonReason);
        Assert.Equal(0, access.CandidateCount);
        foreach (Kind kind in new[] { Kind.TypeExists, Kind.TypeMatches, Kind.TypeSize, Kind.TypeIdTarget })
        {
            CoreRelocationResult result = Resolve(local, R(0, gone, "0", kind), target);
            Assert.False(result.IsPoisoned, kind.ToString());
            Assert.Equal(0UL, result.NewValue);
        }
        Assert.Equal(0UL, Resolve(local, R(0, gone, "0:0", Kind.FieldExists), target).NewValue);
    }

    // Reads a bitfield from 'bytes' the way BPF_CORE_READ_BITFIELD does with the relocated values.
    private static long Extract(byte[] bytes, ulong byteOffset, ulong byteSize, ulong leftShift, ulong rightShift, bool signed)
    {
        ulong value = 0;
        for (int i = (int)byteSize - 1; i >= 0; i--)
        {
            value = value << 8 | bytes[(int)byteOffset + i];
        }
        value <<= (int)leftShift;
        return signed ? (long)value >> (int)rightShift : (long)(value >> (int)rightShift);
    }

    private static void Deposit(byte[] bytes, int bitOffset, int bits, long value)
    {
        for (int i = 0; i < bits; i++)
        {
            int bit = bitOffset + i;
            if (((value >> i) & 1) != 0)
            {
                bytes[bit / 8] |= (byte)(1 << (bit % 8));
            }
        }
    }

    [Fact]
    public void Bitfield_relocations_extract_the_target_bits()
    {
        // Locally: lo:3 at bit 0, mid:5 at bit 3, big:40 at bit 64. In the target mid straddles a
        // 4-byte boundary (bit 30), so its load must widen to 8 bytes.
        var local = new CoreTestBtf();
        int localFlags = local.Struct("flags", 16, M("lo", local.UInt, 0, 3), M("mid", local.Int, 3, 5), M("big", local.ULong, 64, 40));
        var target = new CoreTestBtf();
        target.Struct("flags", 16, M("lo", target.UInt, 0, 3), M("mid", target.Int, 30, 5), M("big", target.ULong, 64, 40));
        var fields = new (string Name, int Index, int BitOffset, int Bits, long Value, ulong[] Expected, ulong LocalLeftShift)[]
        {
            // Expected: byte offset, byte size, lshift, rshift, signed.
            ("lo", 0, 0, 3, 5, [0, 4, 61, 61, 0], 61),
            ("mid", 1, 30, 5, -7, [0, 8, 29, 59, 1], 56),
            ("big", 2, 64, 40, 0xAB_CDEF_0123, [8, 8, 24, 24, 0], 24),
        };
        byte[] memory = new byte[16];
        foreach (var field in fields)
        {
            Deposit(memory, field.BitOffset, field.Bits, field.Value);
        }
        foreach (var field in fields)
        {
            string access = $"0:{field.Index}";
            ulong[] values = [.. new[] { Kind.FieldByteOffset, Kind.FieldByteSize, Kind.FieldLShiftU64, Kind.FieldRShiftU64, Kind.FieldSigned }
                .Select(kind => Resolve(local, R(0, localFlags, access, kind), target))
                .Select(r => { Assert.False(r.IsPoisoned); return r.NewValue; })];
            Assert.Equal(field.Expected, values);
            Assert.Equal(field.LocalLeftShift, Resolve(local, R(0, localFlags, access, Kind.FieldLShiftU64), target).OriginalValue);
            Assert.Equal(field.Value, Extract(memory, values[0], values[1], values[2], values[3], values[4] == 1));
        }
    }

    [Fact]
    public void Bitfield_that_no_64_bit_load_covers_is_an_error()
    {
        var local = new CoreTestBtf();
        int flags = local.Struct("flags", 16, M("big", local.ULong, 0, 40));
        var target = new CoreTestBtf();
        target.Struct("flags", 16, M("big", target.ULong, 60, 40));
        var error = Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, flags, "0:0", Kind.FieldLShiftU64), target));
        Assert.Contains("64-bit load", error.Message);
    }

    [Fact]
    public void Array_elements_and_root_indexes_scale_by_the_target_element_size()
    {
        var local = new CoreTestBtf();
        int localArray = local.Struct("arr", 20, M("n", local.Int, 0), M("vals", local.Array(local.UInt, 4), 32));
        var target = new CoreTestBtf();
        target.Struct("arr", 80, M("pad", target.Long, 0), M("n", target.Short, 64), M("vals", target.Array(target.ULong, 8), 128));
        CoreRelocationResult element = Resolve(local, R(0, localArray, "0:1:3", Kind.FieldByteOffset), target);
        Assert.Equal((16UL, 40UL, 4, 8), (element.OriginalValue, element.NewValue, element.OriginalSize, element.NewSize));
        Assert.Equal("struct arr.vals[3]", element.LocalAccess);
        Assert.Equal("0:2:3", element.TargetAccess);
        // An unsigned element grew from 4 to 8 bytes: the load widens with it.
        List<Instruction> code = [Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 16), Instruction.Exit()];
        Apply(code, local, target, R(0, localArray, "0:1:3", Kind.FieldByteOffset));
        Assert.Equal((AccessSize.DoubleWord, (short)40), (code[0].Size, code[0].Offset));

        // "2:0" indexes the root as an array of structs: 2 * sizeof(struct arr).
        Assert.Equal((40UL, 160UL + 8), ValuePair(Resolve(local, R(0, localArray, "2:0", Kind.FieldByteOffset), target)));
        Assert.Equal(8UL, Resolve(local, R(0, localArray, "0:1:3", Kind.FieldByteSize), target).NewValue);
        // Signedness, shifts and existence make no sense for an element: a malformed relocation.
        Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, localArray, "0:1:3", Kind.FieldSigned), target));
        // Past the target's end: no match, poisoned.
        var shortTarget = new CoreTestBtf();
        shortTarget.Struct("arr", 16, M("n", shortTarget.Int, 0), M("vals", shortTarget.Array(shortTarget.UInt, 2), 32), M("tail", shortTarget.Int, 96));
        Assert.True(Resolve(local, R(0, localArray, "0:1:3", Kind.FieldByteOffset), shortTarget).IsPoisoned);
        // A flexible array member (the last, with no elements) can be indexed anywhere.
        var flexible = new CoreTestBtf();
        flexible.Struct("arr", 4, M("n", flexible.Int, 0), M("vals", flexible.Array(flexible.UInt, 0), 32));
        Assert.Equal(16UL, Resolve(local, R(0, localArray, "0:1:3", Kind.FieldByteOffset), flexible).NewValue);
    }

    private static (ulong, ulong) ValuePair(CoreRelocationResult result) => (result.OriginalValue, result.NewValue);

    [Fact]
    public void Members_of_anonymous_unions_are_found_wherever_the_target_puts_them()
    {
        var local = new CoreTestBtf();
        int localUnion = local.Union(null, 4, M("a", local.Int, 0), M("b", local.UInt, 0));
        int s = local.Struct("s", 8, M(null, localUnion, 0), M("c", local.Int, 32));
        var target = new CoreTestBtf();
        int inner = target.Struct(null, 8, M("x", target.Int, 0), M("b", target.UInt, 32));
        int targetUnion = target.Union(null, 8, M("a", target.Int, 0), M(null, inner, 0));
        target.Struct("s", 16, M("pad", target.Long, 0), M("c", target.Int, 64), M(null, targetUnion, 64));
        CoreRelocationResult b = Resolve(local, R(0, s, "0:0:1", Kind.FieldByteOffset), target);
        Assert.Equal((0UL, 12UL, "0:2:1:1"), (b.OriginalValue, b.NewValue, b.TargetAccess));
        Assert.Equal("struct s.b", b.LocalAccess);
        Assert.Equal((4UL, 8UL), ValuePair(Resolve(local, R(0, s, "0:1", Kind.FieldByteOffset), target)));
        Assert.Equal((0UL, 8UL), ValuePair(Resolve(local, R(0, s, "0:0:0", Kind.FieldByteOffset), target)));
    }

    [Fact]
    public void Incompatible_field_types_do_not_match()
    {
        var local = new CoreTestBtf();
        int foo = local.Struct("foo", 8, M("p", local.Pointer(local.Int), 0));
        var target = new CoreTestBtf();
        int inner = target.Struct("inner", 8, M("x", target.Long, 0));
        target.Struct("foo", 8, M("p", inner, 0));
        Assert.True(Resolve(local, R(0, foo, "0:0", Kind.FieldByteOffset), target).IsPoisoned);
        Assert.Equal(0UL, Resolve(local, R(0, foo, "0:0", Kind.FieldExists), target).NewValue);
    }

    [Fact]
    public void Enum_values_follow_the_target_and_missing_enumerators_poison()
    {
        var local = new CoreTestBtf();
        int e = local.Enum("state", ("A", 0), ("B", 1), ("GONE", 2));
        var target = new CoreTestBtf();
        int targetEnum = target.Enum("state", ("B___renamed", 5), ("A", -2));
        List<Instruction> code =
        [
            Instruction.LoadImm64(Register.R1, 1),
            Instruction.Move64(Register.R2, 1),
            Instruction.LoadImm64(Register.R3, 2),
            Instruction.LoadImm64(Register.R4, 0),
            Instruction.Exit(),
        ];
        CoreRelocationReport report = Apply(code, local, target,
            R(0, e, "1", Kind.EnumValue), R(2, e, "2", Kind.EnumValueExists), R(3, e, "2", Kind.EnumValue), R(5, e, "0", Kind.EnumValue));
        Assert.Equal(5, code[0].Constant);
        Assert.Equal(0, code[1].Constant);
        // The poisoned ld_imm64 became two calls: same slot count, and the next relocation still landed.
        Assert.True(IsPoison(code[2]) && IsPoison(code[3]));
        Assert.Equal(-2, code[4].Constant);
        Assert.Equal(6, code.Count);
        Assert.Equal("enum state::GONE", report.Relocations[2].LocalAccess);
        Assert.Equal(targetEnum, report.Relocations[0].TargetTypeId);
        Assert.Equal(unchecked((ulong)-2L), report.Relocations[3].NewValue);
    }

    [Fact]
    public void Enum64_target_values_are_taken_whole()
    {
        var local = new CoreTestBtf();
        int e = local.Enum("mask", ("HIGH", 1));
        var target = new CoreTestBtf();
        target.Add(BtfTypeDefinition.Enum64("mask", 8, false, [new("HIGH", 1L << 40)]));
        Assert.Equal(1UL << 40, Resolve(local, R(0, e, "0", Kind.EnumValue), target).NewValue);
    }

    [Fact]
    public void Type_size_and_ids_come_from_the_target()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, int targetFoo) = MovedFields();
        Assert.Equal((8UL, 16UL), ValuePair(Resolve(local, R(0, foo, "0", Kind.TypeSize), target)));
        Assert.Equal(1UL, Resolve(local, R(0, foo, "0", Kind.TypeExists), target).NewValue);
        Assert.Equal((ulong)targetFoo, Resolve(local, R(0, foo, "0", Kind.TypeIdTarget), target).NewValue);
        Assert.Equal((ulong)foo, Resolve(local, R(0, foo, "0", Kind.TypeIdLocal), target).NewValue);
        // Type ids are not checked against the instruction: linking renumbers them.
        List<Instruction> code = [Instruction.LoadImm64(Register.R1, 12345), Instruction.Exit()];
        Apply(code, local, target, R(0, foo, "0", Kind.TypeIdTarget));
        Assert.Equal(targetFoo, code[0].Constant);

        // A typedef root is matched as a typedef and sized through it.
        var typedefLocal = new CoreTestBtf();
        int u32 = typedefLocal.Add(BtfTypeDefinition.Typedef("word", typedefLocal.UInt));
        var typedefTarget = new CoreTestBtf();
        typedefTarget.Add(BtfTypeDefinition.Typedef("word", typedefTarget.ULong));
        Assert.Equal((4UL, 8UL), ValuePair(Resolve(typedefLocal, R(0, u32, "0", Kind.TypeSize), typedefTarget)));
    }

    private static ulong Matches(Func<CoreTestBtf, int> local, Action<CoreTestBtf> target)
    {
        var localBtf = new CoreTestBtf();
        int id = local(localBtf);
        var targetBtf = new CoreTestBtf();
        target(targetBtf);
        return Resolve(localBtf, R(0, id, "0", Kind.TypeMatches), targetBtf).NewValue;
    }

    [Fact]
    public void Type_matches_follows_libbpf_rules()
    {
        static int Foo(CoreTestBtf b) => b.Struct("foo", 8, M("a", b.Int, 0), M("b", b.Int, 32));
        // Members in another order, plus extra ones: a match.
        Assert.Equal(1UL, Matches(Foo, t => t.Struct("foo", 16, M("b", t.Int, 0), M("x", t.Long, 32), M("a", t.Int, 96))));
        // A local member the target lacks: no match (though the type exists).
        Assert.Equal(0UL, Matches(Foo, t => t.Struct("foo", 4, M("a", t.Int, 0))));
        // Integer size and signedness must agree.
        Assert.Equal(0UL, Matches(Foo, t => t.Struct("foo", 12, M("a", t.Long, 0), M("b", t.Int, 64))));
        Assert.Equal(0UL, Matches(Foo, t => t.Struct("foo", 8, M("a", t.UInt, 0), M("b", t.Int, 32))));
        // A union is not a struct.
        Assert.Equal(0UL, Matches(Foo, t => t.Union("foo", 4, M("a", t.Int, 0), M("b", t.Int, 0))));

        static int State(CoreTestBtf b) => b.Enum("state", ("A", 0), ("B", 1));
        Assert.Equal(1UL, Matches(State, t => t.Enum("state", ("B", 9), ("C", 3), ("A", 7))));
        Assert.Equal(0UL, Matches(State, t => t.Enum("state", ("A", 0))));
        Assert.Equal(0UL, Matches(State, t => t.Add(BtfTypeDefinition.Enum("state", 8, false, [new("A", 0), new("B", 1)]))));

        // Behind a pointer, a struct matches a forward declaration of it.
        static int Node(CoreTestBtf b) => b.Struct("node", 8, M("next", b.Pointer(b.Struct("other", 4, M("v", b.Int, 0))), 0));
        Assert.Equal(1UL, Matches(Node, t => t.Struct("node", 8, M("next", t.Pointer(t.Add(BtfTypeDefinition.Forward("other", false))), 0))));
        Assert.Equal(0UL, Matches(Node, t => t.Struct("node", 8, M("next", t.Pointer(t.Add(BtfTypeDefinition.Forward("other", true))), 0))));

        // Arrays must have the same length.
        static int Buf(CoreTestBtf b) => b.Struct("buf", 16, M("data", b.Array(b.Int, 4), 0));
        Assert.Equal(1UL, Matches(Buf, t => t.Struct("buf", 16, M("data", t.Array(t.Int, 4), 0))));
        Assert.Equal(0UL, Matches(Buf, t => t.Struct("buf", 32, M("data", t.Array(t.Int, 8), 0))));
    }

    [Fact]
    public void Candidates_that_disagree_are_an_ambiguity_error()
    {
        var local = new CoreTestBtf();
        int foo = local.Struct("foo", 8, M("a", local.Int, 0), M("b", local.Int, 32));
        var target = new CoreTestBtf();
        target.Struct("foo", 8, M("a", target.Int, 0), M("b", target.Int, 32));
        target.Struct("foo___v1", 12, M("a", target.Int, 0), M("b", target.Int, 64));
        var error = Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0:1", Kind.FieldByteOffset), target));
        Assert.Contains("ambiguous", error.Message);
        Assert.Contains("struct foo.b", error.Message);

        // Candidates that agree are fine; one without the field is simply not a match.
        var agreeing = new CoreTestBtf();
        agreeing.Struct("foo", 8, M("a", agreeing.Int, 0), M("b", agreeing.Int, 32));
        agreeing.Struct("foo___v1", 12, M("a", agreeing.Int, 0), M("b", agreeing.Int, 32), M("c", agreeing.Int, 64));
        agreeing.Struct("foo___v2", 4, M("a", agreeing.Int, 0));
        CoreRelocationResult result = Resolve(local, R(0, foo, "0:1", Kind.FieldByteOffset), agreeing);
        Assert.Equal((4UL, 3), (result.NewValue, result.CandidateCount));
        // Type sizes differ across candidates: an ambiguity for type_size too.
        Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0", Kind.TypeSize), agreeing));
    }

    [Fact]
    public void Every_patchable_instruction_class_is_rewritten()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, _) = MovedFields();
        List<Instruction> code =
        [
            Instruction.Move32(Register.R1, 4),
            Instruction.Alu64(AluOperation.Add, Register.R2, 4),
            Instruction.LoadMemory(AccessSize.Word, Register.R3, Register.R1, 4),
            Instruction.StoreMemory(AccessSize.Word, Register.R1, 4, Register.R3),
            Instruction.StoreImmediate(AccessSize.Word, Register.R1, 4, 77),
            Instruction.LoadImm64(Register.R4, 4),
            Instruction.Exit(),
        ];
        uint[] slots = [0, 1, 2, 3, 4, 5];
        Apply(code, local, target, [.. slots.Select(slot => R(slot, foo, "0:1", Kind.FieldByteOffset))]);
        Assert.Equal(12, code[0].Constant);
        Assert.Equal(12, code[1].Constant);
        Assert.Equal([12, 12, 12], code.Skip(2).Take(3).Select(i => (int)i.Offset));
        Assert.Equal(77, code[4].Constant);
        Assert.Equal(12, code[5].Constant);
        Assert.Equal(InstructionClass.Alu, code[0].Class);
        Assert.Equal(Register.R3, code[3].Src);
    }

    [Fact]
    public void Values_that_do_not_fit_the_instruction_are_refused()
    {
        var local = new CoreTestBtf();
        int foo = local.Struct("foo", 8, M("a", local.Int, 0), M("b", local.Int, 32));
        var target = new CoreTestBtf();
        target.Struct("foo", 40008, M("a", target.Int, 0), M("b", target.Int, 40000 * 8));
        List<Instruction> load = [Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 4), Instruction.Exit()];
        var error = Assert.Throws<CoreRelocationException>(() => Apply(load, local, target, R(0, foo, "0:1", Kind.FieldByteOffset)));
        Assert.Contains("40000", error.Message);
        Assert.Contains("16-bit offset", error.Message);
        // An ALU immediate holds it, and an ld_imm64 anything.
        List<Instruction> move = [Instruction.Move64(Register.R0, 4), Instruction.LoadImm64(Register.R1, 8), Instruction.Exit()];
        Apply(move, local, target, R(0, foo, "0:1", Kind.FieldByteOffset), R(1, foo, "0", Kind.TypeSize));
        Assert.Equal((40000L, 40008L), (move[0].Constant, move[1].Constant));

        var huge = new CoreTestBtf();
        huge.Struct("foo", 3_000_000_000, M("a", huge.Int, 0));
        List<Instruction> wide = [Instruction.Move64(Register.R0, 8), Instruction.Exit()];
        error = Assert.Throws<CoreRelocationException>(() => Apply(wide, local, huge, R(0, foo, "0", Kind.TypeSize)));
        Assert.Contains("32-bit immediate", error.Message);
        List<Instruction> narrow = [Instruction.Move32(Register.R0, 8), Instruction.Exit()];
        Apply(narrow, local, huge, R(0, foo, "0", Kind.TypeSize));
        Assert.Equal(3_000_000_000u, unchecked((uint)narrow[0].Constant));
    }

    [Fact]
    public void Instructions_that_do_not_hold_the_compiled_value_or_cannot_be_patched_are_refused()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, _) = MovedFields();
        var mismatch = Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 8), Instruction.Exit()], local, target, R(0, foo, "0:1", Kind.FieldByteOffset)));
        Assert.Contains("the offset is 8", mismatch.Message);
        Assert.Contains("compiler put 4", mismatch.Message);
        Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.Alu64(AluOperation.Add, Register.R0, Register.R1), Instruction.Exit()], local, target, R(0, foo, "0:1", Kind.FieldByteOffset)));
        Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.Jump64(JumpOperation.Equal, Register.R0, 4, 0), Instruction.Exit()], local, target, R(0, foo, "0:1", Kind.FieldByteOffset)));
        Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.LoadMapFd(Register.R1, 4), Instruction.Exit()], local, target, R(0, foo, "0:1", Kind.FieldByteOffset)));
        // Slot 1 is the second half of the ld_imm64; slot 9 is past the end.
        var half = Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.LoadImm64(Register.R1, 4), Instruction.Exit()], local, target, R(1, foo, "0:1", Kind.FieldByteOffset)));
        Assert.Contains("second half of an ld_imm64", half.Message);
        Assert.Throws<CoreRelocationException>(() => Apply([Instruction.Exit()], local, target, R(9, foo, "0:1", Kind.FieldByteOffset)));
    }

    [Fact]
    public void Load_size_follows_unsigned_and_pointer_fields_and_poisons_otherwise()
    {
        var local = new CoreTestBtf();
        int foo = local.Struct("foo", 16, M("count", local.UInt, 0), M("delta", local.Int, 32), M("p", local.Pointer(local.Int), 64));
        var target = new CoreTestBtf();
        target.Struct("foo", 24, M("count", target.ULong, 0), M("delta", target.Long, 64), M("p", target.Pointer(target.Int), 128));
        List<Instruction> code =
        [
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 0),
            Instruction.LoadMemory(AccessSize.Word, Register.R2, Register.R1, 4),
            Instruction.LoadMemory(AccessSize.DoubleWord, Register.R3, Register.R1, 8),
            Instruction.Exit(),
        ];
        CoreRelocationReport report = Apply(code, local, target,
            R(0, foo, "0:0", Kind.FieldByteOffset), R(1, foo, "0:1", Kind.FieldByteOffset), R(2, foo, "0:2", Kind.FieldByteOffset));
        Assert.Equal((AccessSize.DoubleWord, (short)0), (code[0].Size, code[0].Offset));
        Assert.True(IsPoison(code[1]));
        Assert.Contains("4 bytes here but 8 in the target", report.Relocations[1].PoisonReason);
        Assert.Equal((AccessSize.DoubleWord, (short)16), (code[2].Size, code[2].Offset));
        // A load of the wrong width for the field is a malformed object.
        Assert.Throws<CoreRelocationException>(() =>
            Apply([Instruction.LoadMemory(AccessSize.Half, Register.R0, Register.R1, 0), Instruction.Exit()], local, target, R(0, foo, "0:0", Kind.FieldByteOffset)));
    }

    [Fact]
    public void Malformed_relocations_are_clear_errors()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, _) = MovedFields();
        Assert.Contains("not a list of indexes", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0:x", Kind.FieldByteOffset), target)).Message);
        Assert.Contains("member 7", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0:7", Kind.FieldByteOffset), target)).Message);
        Assert.Contains("must be \"0\"", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "1", Kind.TypeSize), target)).Message);
        Assert.Contains("does not name an enumerator", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0", Kind.EnumValue), target)).Message);
        Assert.Contains("not in the object's BTF", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, 999, "0:0", Kind.FieldByteOffset), target)).Message);
        Assert.Contains("unknown relocation kind", Assert.Throws<CoreRelocationException>(() => Resolve(local, R(0, foo, "0", (Kind)42), target)).Message);
        var withAnonymous = new CoreTestBtf();
        int anon = withAnonymous.Struct(null, 4, M("a", withAnonymous.Int, 0));
        Assert.Contains("anonymous", Assert.Throws<CoreRelocationException>(() => Resolve(withAnonymous, R(0, anon, "0:0", Kind.FieldByteOffset), target)).Message);
    }

    [Fact]
    public void Module_btf_is_searched_only_when_the_main_btf_has_no_candidate()
    {
        var vmlinux = new CoreTestBtf();
        vmlinux.Struct("shared", 8, M("x", vmlinux.Int, 0), M("v", vmlinux.Int, 32));
        BtfSpec main = vmlinux.Spec;
        var module = new CoreTestBtf(main);
        int moduleType = module.Struct("mod_state", 16, M("pad", 3, 0), M("v", 1, 64));
        module.Struct("shared", 12, M("y", 3, 0), M("v", 1, 64));
        CoreTarget target = CoreTarget.FromSpec(main, [new("mymod", module.Spec)]);

        var local = new CoreTestBtf();
        int modState = local.Struct("mod_state", 4, M("v", local.Int, 0));
        int shared = local.Struct("shared", 4, M("v", local.Int, 0));
        CoreRelocationResult fromModule = CoreRelocator.Resolve(local.Spec, R(0, modState, "0:0", Kind.FieldByteOffset), target);
        Assert.Equal((8UL, "mymod", moduleType), (fromModule.NewValue, fromModule.TargetSource, fromModule.TargetTypeId));
        CoreRelocationResult fromMain = CoreRelocator.Resolve(local.Spec, R(0, shared, "0:0", Kind.FieldByteOffset), target);
        Assert.Equal((4UL, "vmlinux", 1), (fromMain.NewValue, fromMain.TargetSource, fromMain.CandidateCount));
    }

    [Fact]
    public void Target_from_a_raw_btf_file_or_an_elf_with_a_btf_section()
    {
        (CoreTestBtf local, int foo, CoreTestBtf target, _) = MovedFields();
        string path = Path.Combine(Path.GetTempPath(), $"bpfsharp-core-{Guid.NewGuid():N}.btf");
        try
        {
            File.WriteAllBytes(path, target.Builder.Build());
            CoreRelocationResult result = CoreRelocator.Resolve(local.Spec, R(0, foo, "0:1", Kind.FieldByteOffset), CoreTarget.FromFile(path));
            Assert.Equal(12UL, result.NewValue);
            Assert.Equal(path, CoreTarget.FromFile(path).Description);
        }
        finally
        {
            File.Delete(path);
        }
        CoreTarget elf = CoreTarget.FromFile(TestPrograms.Path("core_task"));
        Assert.True(elf.Btf.TryFindType("task_struct", BtfKind.Struct, out _));
        var missing = Assert.Throws<BtfException>(() => CoreTarget.FromFile("/nonexistent/vmlinux").Btf);
        Assert.Contains("/nonexistent/vmlinux", missing.Message);
    }
}
