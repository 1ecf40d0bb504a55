using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>Building BTF in code: every kind, read back by the parser; copy and in-place replacement.</summary>
public sealed class BtfBuilderTests
{
    internal static (BtfBuilder Builder, Dictionary<string, int> Ids) EveryKind()
    {
        var b = new BtfBuilder();
        var ids = new Dictionary<string, int>();
        ids["int"] = b.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
        ids["uchar"] = b.Add(BtfTypeDefinition.Int("unsigned char", 1));
        ids["bool"] = b.Add(BtfTypeDefinition.Int("_Bool", 1, BtfIntEncoding.Bool));
        ids["u64"] = b.Add(BtfTypeDefinition.Int("unsigned long long", 8));
        ids["float"] = b.Add(BtfTypeDefinition.Float("float", 4));
        ids["fwd"] = b.Add(BtfTypeDefinition.Forward("opaque", isUnion: true));
        ids["ptr"] = b.Add(BtfTypeDefinition.Pointer(ids["fwd"]));
        ids["const"] = b.Add(BtfTypeDefinition.Const(ids["int"]));
        ids["volatile"] = b.Add(BtfTypeDefinition.Volatile(ids["const"]));
        ids["restrict"] = b.Add(BtfTypeDefinition.Restrict(ids["ptr"]));
        ids["typetag"] = b.Add(BtfTypeDefinition.TypeTag("user", ids["int"]));
        ids["array"] = b.Add(BtfTypeDefinition.Array(ids["uchar"], ids["int"], 6));
        ids["typedef"] = b.Add(BtfTypeDefinition.Typedef("mac_t", ids["array"]));
        ids["enum"] = b.Add(BtfTypeDefinition.Enum("level", 4, signed: true, [new("LOW", -1), new("HIGH", 7)]));
        ids["enum64"] = b.Add(BtfTypeDefinition.Enum64("mask", 8, signed: false, [new("ALL", unchecked((long)0xffff_ffff_0000_0000)), new("ONE", 1)]));
        ids["struct"] = b.Add(BtfTypeDefinition.Struct("packet", 24,
        [
            new("mac", ids["typedef"], 0),
            new("urgent", ids["bool"], 48, 1),
            new("priority", ids["u64"], 49, 3),
            new("owner", ids["ptr"], 64),
            new("level", ids["enum"], 128),
            new("ratio", ids["float"], 160),
        ]));
        ids["union"] = b.Add(BtfTypeDefinition.Union("either", 8, [new("as_int", ids["int"], 0), new("as_mask", ids["enum64"], 0)]));
        ids["proto"] = b.Add(BtfTypeDefinition.FunctionProto(ids["int"], [new("packet", ids["struct"]), new(null, 0)]));
        ids["func"] = b.Add(BtfTypeDefinition.Function("handle", ids["proto"], BtfFunctionLinkage.Global));
        ids["var"] = b.Add(BtfTypeDefinition.Variable("packets", ids["struct"], BtfVariableLinkage.GlobalAllocated));
        ids["datasec"] = b.Add(BtfTypeDefinition.DataSection(".bss", 24, [new(ids["var"], 0, 24)]));
        ids["decltag"] = b.Add(BtfTypeDefinition.DeclTag("hot", ids["struct"], 3));
        return (b, ids);
    }

    [Fact]
    public void Every_kind_round_trips_through_the_parser()
    {
        (BtfBuilder builder, Dictionary<string, int> ids) = EveryKind();
        BtfSpec spec = builder.BuildSpec();
        Assert.Equal(ids.Count, spec.OwnTypeCount);
        Assert.Equal(Enum.GetValues<BtfKind>().Where(k => k != BtfKind.Void).Order(), spec.OwnTypes.Select(t => t.Kind).Distinct().Order());

        Assert.Equal(BtfIntEncoding.Bool, spec[ids["bool"]].IntEncoding);
        Assert.True(spec[ids["fwd"]].IsForwardUnion);
        Assert.Equal(new BtfArray(ids["uchar"], ids["int"], 6), spec[ids["array"]].Array);
        Assert.Equal([-1L, 7L], spec[ids["enum"]].Enumerators.Select(e => e.Value));
        Assert.True(spec[ids["enum"]].IsSignedEnum);
        Assert.Equal([0xffff_ffff_0000_0000ul, 1ul], spec[ids["enum64"]].Enumerators.Select(e => e.RawValue));
        BtfType packet = spec[ids["struct"]];
        Assert.True(packet.KindFlag);
        Assert.Equal(new[] { ("mac", 0u, 0), ("urgent", 48u, 1), ("priority", 49u, 3), ("owner", 64u, 0), ("level", 128u, 0), ("ratio", 160u, 0) },
            packet.Members.Select(m => (m.Name, m.BitOffset, m.BitfieldSize)));
        Assert.False(spec[ids["union"]].KindFlag);
        Assert.True(spec[ids["proto"]].IsVariadic);
        Assert.Equal(BtfFunctionLinkage.Global, spec[ids["func"]].FunctionLinkage);
        Assert.Equal(BtfVariableLinkage.GlobalAllocated, spec[ids["var"]].VariableLinkage);
        Assert.Equal(ids["var"], spec[ids["datasec"]].Variables[0].TypeId);
        Assert.Equal(3, spec[ids["decltag"]].DeclTagComponentIndex);
        Assert.Equal("user", spec[ids["typetag"]].Name);
        Assert.Equal("int handle(struct packet packet, ...)", spec.FormatC(ids["proto"], "handle"));
        Assert.Equal("union opaque * restrict p", spec.FormatC(ids["restrict"], "p"));
        Assert.Equal("const volatile int v", spec.FormatC(ids["volatile"], "v"));
    }

    [Fact]
    public void Strings_are_deduplicated()
    {
        var builder = new BtfBuilder();
        uint first = builder.AddString("value");
        Assert.Equal(first, builder.AddString("value"));
        Assert.Equal(0u, builder.AddString(""));
        int a = builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
        builder.Add(BtfTypeDefinition.Typedef("value", a));
        BtfSpec spec = builder.BuildSpec();
        Assert.Equal(1 + "value".Length + 1 + "int".Length + 1, spec.StringTableLength);
    }

    [Fact]
    public void From_copies_object_BTF_byte_for_byte()
    {
        byte[] original = BtfTestData.Btf("btf_kinds");
        BtfSpec spec = BtfSpec.Parse(original);
        byte[] copy = BtfBuilder.From(spec).Build();
        // clang writes the same 24-byte header and section order, so the copy is identical.
        Assert.Equal(original, copy);
    }

    [Fact]
    public void Replace_rewrites_a_type_in_place_as_sanitizing_needs()
    {
        BtfSpec spec = BtfTestData.Spec("btf_kinds");
        BtfBuilder builder = BtfBuilder.From(spec);
        // What a loader does for a kernel without DECL_TAG, TYPE_TAG and DATASEC: same ids, older kinds.
        foreach (BtfType type in spec.OwnTypes)
        {
            switch (type.Kind)
            {
                case BtfKind.DeclTag:
                    builder.Replace(type.Id, BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
                    break;
                case BtfKind.TypeTag:
                    builder.Replace(type.Id, BtfTypeDefinition.Const(type.ReferencedTypeId));
                    break;
                case BtfKind.DataSection:
                    builder.Replace(type.Id, BtfTypeDefinition.Struct(type.Name.Replace('.', '_'), type.Size, []));
                    break;
            }
        }
        BtfSpec rewritten = builder.BuildSpec();
        Assert.Equal(spec.TypeIdLimit, rewritten.TypeIdLimit);
        Assert.DoesNotContain(rewritten.OwnTypes, t => t.Kind is BtfKind.DeclTag or BtfKind.TypeTag or BtfKind.DataSection);
        int record = spec.FindType("record", BtfKind.Struct).Id;
        Assert.Equal(record, rewritten.FindType("record", BtfKind.Struct).Id);
        Assert.Equal(BtfKind.Struct, builder.KindOf(spec.FindType(".bss", BtfKind.DataSection).Id));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Replace(0, BtfTypeDefinition.Pointer(0)));
    }

    [Fact]
    public void Bad_definitions_are_rejected_with_the_reason()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BtfTypeDefinition.Int("int", 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => BtfTypeDefinition.Enum("e", 4, false, [new("BIG", 1L << 40)]));
        Assert.Throws<ArgumentException>(() => BtfTypeDefinition.Struct("s", 4, [new("x", 1, 1u << 25, 3)]));
        Assert.Throws<ArgumentException>(() => BtfTypeDefinition.Raw(BtfKind.Struct, "s", 2, false, 8, [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => new BtfBuilder().AddString("a\0b"));
    }
}
