using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>The parser and type API over object BTF that clang-14 wrote for tests/programs/btf_kinds.bpf.c.</summary>
public sealed class BtfSpecTests
{
    private static readonly BtfSpec s_spec = BtfTestData.Spec("btf_kinds");

    [Fact]
    public void Struct_members_have_names_types_and_bit_offsets()
    {
        BtfType record = s_spec.FindType("record", BtfKind.Struct);
        Assert.Equal(144u, record.Size);
        Assert.Equal(14, record.Members.Count);
        BtfMember name = record.Members[1];
        Assert.Equal("name", name.Name);
        Assert.Equal(32u, name.BitOffset);
        Assert.Equal(4u, name.ByteOffset);
        BtfType array = name.Type;
        Assert.Equal(BtfKind.Array, array.Kind);
        Assert.Equal(16u, array.Array.Count);
        // const volatile char: qualifiers in the order clang wrote them, then the int.
        BtfType element = s_spec[array.Array.ElementTypeId];
        Assert.Equal(BtfKind.Const, element.Kind);
        Assert.Equal(BtfKind.Volatile, element.ReferencedType.Kind);
        Assert.Equal("char", s_spec.ResolveTypedefsAndQualifiers(element.Id).Name);
        Assert.Equal(["id", "name", "flags", "value", "color", "delta", "ratio", "hidden", "user_data", "next", "callback", "counts", "point", ""],
            record.Members.Select(m => m.Name));
        Assert.Equal(record.Members.Select(m => m.BitOffset), new uint[] { 0, 32, 192, 256, 320, 352, 384, 448, 512, 576, 640, 704, 1088, 1120 });
    }

    [Fact]
    public void Bitfields_use_kind_flag_offsets()
    {
        BtfType flags = s_spec.FindType("flags", BtfKind.Struct);
        Assert.True(flags.KindFlag);
        Assert.Equal(new[] { ("ready", 0u, 1), ("mode", 1u, 3), ("level", 4u, 12), ("big", 16u, 40) },
            flags.Members.Select(m => (m.Name, m.BitOffset, m.BitfieldSize)));
        Assert.Equal(BtfIntEncoding.Signed, s_spec.ResolveTypedefsAndQualifiers(flags.Members[2].TypeId).IntEncoding);
    }

    [Fact]
    public void Integers_floats_and_unions()
    {
        BtfType value = s_spec.FindType("value", BtfKind.Union);
        Assert.Equal(8u, value.Size);
        Assert.All(value.Members, m => Assert.Equal(0u, m.BitOffset));
        BtfType asLong = value.Members[0].Type;
        Assert.Equal((BtfKind.Int, "long long", 8u, 64, BtfIntEncoding.Signed), (asLong.Kind, asLong.Name, asLong.Size, asLong.IntBits, asLong.IntEncoding));
        BtfType asDouble = value.Members[1].Type;
        Assert.Equal((BtfKind.Float, "double", 8u), (asDouble.Kind, asDouble.Name, asDouble.Size));
        Assert.Equal(BtfIntEncoding.None, s_spec.FindType("unsigned char", BtfKind.Int).IntEncoding);
    }

    [Fact]
    public void Enums_keep_signedness_and_values()
    {
        BtfType color = s_spec.FindType("color", BtfKind.Enum);
        Assert.False(color.IsSignedEnum);
        Assert.Equal(new[] { ("RED", 0ul), ("GREEN", 1ul), ("BLUE", 4000000000ul) }, color.Enumerators.Select(e => (e.Name, e.RawValue)));
        // clang-14 writes every ENUM as unsigned; -1 is stored as its 32-bit pattern.
        BtfType delta = s_spec.FindType("delta", BtfKind.Enum);
        Assert.Equal(4294967295ul, delta.Enumerators[0].RawValue);
    }

    [Fact]
    public void Pointers_forwards_typedefs_and_type_tags()
    {
        BtfType record = s_spec.FindType("record", BtfKind.Struct);
        BtfType hidden = record.Members[7].Type;
        Assert.Equal(BtfKind.Pointer, hidden.Kind);
        BtfType opaque = hidden.ReferencedType;
        Assert.Equal((BtfKind.Forward, "opaque", false), (opaque.Kind, opaque.Name, opaque.IsForwardUnion));
        BtfType userData = record.Members[8].Type;
        BtfType tag = userData.ReferencedType;
        Assert.Equal((BtfKind.TypeTag, "user"), (tag.Kind, tag.Name));
        Assert.Equal("int", tag.ReferencedType.Name);
        Assert.Equal(record.Id, record.Members[9].Type.ReferencedTypeId);
        BtfType callback = record.Members[10].Type;
        Assert.Equal((BtfKind.Typedef, "callback_t"), (callback.Kind, callback.Name));
        Assert.Equal(BtfKind.Pointer, s_spec.ResolveTypedefsAndQualifiers(callback.Id).Kind);
    }

    [Fact]
    public void Function_prototypes_functions_and_decl_tags()
    {
        BtfType helper = s_spec.FindType("helper_sum", BtfKind.Function);
        Assert.Equal(BtfFunctionLinkage.Static, helper.FunctionLinkage);
        BtfType proto = helper.ReferencedType;
        Assert.Equal(BtfKind.FunctionProto, proto.Kind);
        Assert.Equal("int", proto.ReferencedType.Name);
        Assert.Equal(["left", "right"], proto.Parameters.Select(p => p.Name));
        BtfType restrictPointer = s_spec[proto.Parameters[0].TypeId];
        Assert.Equal(BtfKind.Restrict, restrictPointer.Kind);
        Assert.False(proto.IsVariadic);
        Assert.Equal(BtfFunctionLinkage.Global, s_spec.FindType("kinds_program", BtfKind.Function).FunctionLinkage);

        BtfType callbackProto = s_spec.ResolveTypedefsAndQualifiers(s_spec.FindType("callback_t", BtfKind.Typedef).Id).ReferencedType;
        Assert.Equal(2, callbackProto.Parameters.Count);

        var tags = s_spec.OwnTypes.Where(t => t.Kind == BtfKind.DeclTag).ToDictionary(t => t.Name);
        Assert.Equal(0, tags["identifier"].DeclTagComponentIndex);
        Assert.Equal("record", tags["identifier"].ReferencedType.Name);
        Assert.Equal(-1, tags["helper"].DeclTagComponentIndex);
        Assert.Equal(helper.Id, tags["helper"].ReferencedTypeId);
    }

    [Fact]
    public void Variables_and_data_sections()
    {
        BtfType bss = s_spec.FindType(".bss", BtfKind.DataSection);
        Assert.Equal(["global_counter", "scratch"], bss.Variables.Select(v => v.Type.Name));
        Assert.Equal([4u, 32u], bss.Variables.Select(v => v.Size));
        BtfType config = s_spec.FindType("config_value", BtfKind.Variable);
        Assert.Equal(BtfVariableLinkage.GlobalAllocated, config.VariableLinkage);
        Assert.Equal(BtfKind.Const, config.ReferencedType.Kind);
        Assert.Equal(4, s_spec.SizeOf(config.Id));
        BtfType maps = s_spec.FindType(".maps", BtfKind.DataSection);
        Assert.Equal("records", maps.Variables[0].Type.Name);
    }

    [Fact]
    public void Sizes_and_alignments_follow_C()
    {
        int counts = s_spec.FindType("record", BtfKind.Struct).Members[11].TypeId;
        Assert.Equal(48, s_spec.SizeOf(counts)); // counter_t[2][3]
        Assert.Equal(8, s_spec.AlignOf(counts));
        Assert.Equal(144, s_spec.SizeOf(s_spec.FindType("record", BtfKind.Struct).Id));
        Assert.Equal(8, s_spec.AlignOf(s_spec.FindType("record", BtfKind.Struct).Id));
        Assert.Equal(2, s_spec.AlignOf(s_spec.FindType("record", BtfKind.Struct).Members[12].TypeId));
        Assert.Equal(8, s_spec.PointerSize);
        Assert.Throws<BtfException>(() => s_spec.SizeOf(s_spec.FindType("helper_sum", BtfKind.Function).Id));
    }

    [Fact]
    public void Declarations_format_as_C()
    {
        BtfType record = s_spec.FindType("record", BtfKind.Struct);
        Assert.Equal("const volatile char name[16]", s_spec.FormatC(record.Members[1].TypeId, "name"));
        Assert.Equal("counter_t counts[2][3]", s_spec.FormatC(record.Members[11].TypeId, "counts"));
        Assert.Equal("struct record *next", s_spec.FormatC(record.Members[9].TypeId, "next"));
        Assert.Equal("struct opaque *", s_spec.FormatC(record.Members[7].TypeId));
        int callback = s_spec.FindType("callback_t", BtfKind.Typedef).ReferencedTypeId;
        // clang does not record parameter names of function pointer types.
        Assert.Equal("int (*fn)(void *, const char *)", s_spec.FormatC(callback, "fn"));
        Assert.Equal("int (*)(void *, const char *)", s_spec.FormatC(callback));
        int helperProto = s_spec.FindType("helper_sum", BtfKind.Function).ReferencedTypeId;
        Assert.Equal("int sum(int * restrict left, int * restrict right)", s_spec.FormatC(helperProto, "sum"));
        Assert.Equal("struct {\n\tshort x;\n\tshort y;\n} point", s_spec.FormatC(record.Members[12].TypeId, "point"));
        Assert.Equal("struct flags {\n\tunsigned int ready: 1;\n\tunsigned int mode: 3;\n\tint level: 12;\n\tunsigned long long big: 40;\n};\n",
            BtfCWriter.FormatDefinition(s_spec, s_spec.FindType("flags", BtfKind.Struct).Id));
        Assert.Equal("enum color {\n\tRED = 0,\n\tGREEN = 1,\n\tBLUE = 4000000000,\n};\n",
            BtfCWriter.FormatDefinition(s_spec, s_spec.FindType("color", BtfKind.Enum).Id));
    }

    [Fact]
    public void Lookup_by_name_and_kind_and_by_id()
    {
        Assert.True(s_spec.TryFindType("record", BtfKind.Struct, out BtfType record));
        Assert.Equal(record, s_spec[record.Id]);
        Assert.False(s_spec.TryFindType("record", BtfKind.Union, out _));
        Assert.False(s_spec.TryFindType("no_such_type", BtfKind.Struct, out _));
        Assert.Throws<KeyNotFoundException>(() => s_spec.FindType("no_such_type", BtfKind.Struct));
        Assert.Equal([BtfKind.Union], s_spec.FindTypes("value").Select(t => t.Kind)); // member names are not types
        Assert.Equal(BtfKind.Void, s_spec[0].Kind);
        Assert.Throws<BtfException>(() => s_spec[s_spec.TypeIdLimit]);
        Assert.False(s_spec.TryGetType(-1, out _));
        Assert.Throws<InvalidOperationException>(() => record.ReferencedTypeId);
    }

    [Fact]
    public void Raw_listing_matches_bpftool()
    {
        string expected = BtfTestData.Run("bpftool", $"btf dump file {TestPrograms.Path("btf_kinds")}");
        var text = new StringWriter();
        BtfRawWriter.Write(s_spec, text);
        Assert.Equal(expected, text.ToString());
    }
}
