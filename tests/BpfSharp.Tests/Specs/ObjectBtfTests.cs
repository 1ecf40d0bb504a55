using BpfSharp.Btf;
using BpfSharp.Specs;
using BpfSharp.Tests.Btf;

namespace BpfSharp.Tests.Specs;

/// <summary>
/// Sanitizing an object's BTF for kernels that lack newer kinds (libbpf's rules): every type keeps its id, each new
/// kind becomes an older one of the same size, and the result is BTF a kernel accepts.
/// </summary>
public class ObjectBtfTests
{
    private static (byte[] Blob, Dictionary<string, int> Ids) EveryKind()
    {
        (BtfBuilder builder, Dictionary<string, int> ids) = BtfBuilderTests.EveryKind();
        return (builder.Build(), ids);
    }

    [Fact]
    public void FullKeepsTheBlobAsItIs()
    {
        (byte[] blob, _) = EveryKind();
        Assert.Equal(blob, ObjectBtf.Sanitize(blob, BtfCompatibility.Full));
    }

    [Fact]
    public void NoNewKindsRewritesEachNewKindKeepingIdsAndSizes()
    {
        (byte[] blob, Dictionary<string, int> ids) = EveryKind();
        BtfSpec original = BtfSpec.Parse(blob);
        BtfSpec sanitized = BtfSpec.Parse(ObjectBtf.Sanitize(blob, BtfCompatibility.NoNewKinds));

        // One type more: the one-byte INT the ENUM64's union members point at, after every original id.
        Assert.Equal(original.OwnTypeCount + 1, sanitized.OwnTypeCount);
        BtfType placeholder = sanitized[original.OwnTypeCount + 1];
        Assert.Equal((BtfKind.Int, "enum64_placeholder", 1u), (placeholder.Kind, placeholder.Name, placeholder.Size));

        BtfType declTag = sanitized[ids["decltag"]];
        Assert.Equal((BtfKind.Int, 1u), (declTag.Kind, declTag.Size));
        BtfType typeTag = sanitized[ids["typetag"]];
        Assert.Equal((BtfKind.Const, ids["int"]), (typeTag.Kind, typeTag.ReferencedTypeId));
        BtfType floating = sanitized[ids["float"]];
        Assert.Equal((BtfKind.Struct, false, 4u, 0), (floating.Kind, floating.HasName, floating.Size, floating.Members.Count));
        BtfType signedEnum = sanitized[ids["enum"]];
        Assert.Equal((BtfKind.Enum, false, 4u), (signedEnum.Kind, signedEnum.IsSignedEnum, signedEnum.Size));
        Assert.Equal(["LOW", "HIGH"], signedEnum.Enumerators.Select(e => e.Name));
        Assert.Equal([0xffff_ffffUL, 7UL], signedEnum.Enumerators.Select(e => (ulong)e.RawValue));
        BtfType enum64 = sanitized[ids["enum64"]];
        Assert.Equal((BtfKind.Union, "mask", 8u), (enum64.Kind, enum64.Name, enum64.Size));
        Assert.Equal(["ALL", "ONE"], enum64.Members.Select(m => m.Name));
        Assert.All(enum64.Members, m => Assert.Equal((placeholder.Id, 0u), (m.TypeId, m.BitOffset)));
        Assert.Equal(BtfFunctionLinkage.Static, sanitized[ids["func"]].FunctionLinkage);
        // Data sections stay at this level.
        Assert.Equal(BtfKind.Variable, sanitized[ids["var"]].Kind);
        Assert.Equal(BtfKind.DataSection, sanitized[ids["datasec"]].Kind);
        // Everything else is untouched.
        foreach (string name in new[] { "int", "ptr", "array", "typedef", "struct", "union", "proto", "fwd" })
        {
            Assert.Equal(original[ids[name]].Kind, sanitized[ids[name]].Kind);
        }
    }

    [Fact]
    public void NoDataSectionsAlsoTurnsVariablesAndSectionsIntoIntsAndStructs()
    {
        (byte[] blob, Dictionary<string, int> ids) = EveryKind();
        BtfSpec sanitized = BtfSpec.Parse(ObjectBtf.Sanitize(blob, BtfCompatibility.NoDataSections));

        BtfType variable = sanitized[ids["var"]];
        Assert.Equal((BtfKind.Int, "packets", 1u), (variable.Kind, variable.Name, variable.Size));
        BtfType section = sanitized[ids["datasec"]];
        Assert.Equal((BtfKind.Struct, "_bss", 24u, 0), (section.Kind, section.Name, section.Size, section.Members.Count));
        Assert.Equal(BtfKind.Union, sanitized[ids["enum64"]].Kind);
    }

    [Trait("Category", "Kernel")]
    [KernelTheory]
    [InlineData(BtfCompatibility.Full)]
    [InlineData(BtfCompatibility.NoNewKinds)]
    [InlineData(BtfCompatibility.NoDataSections)]
    public void EveryLevelOfEveryCorpusObjectIsBtfTheKernelAccepts(BtfCompatibility level)
    {
        (byte[] everyKind, _) = EveryKind();
        using (BtfObject.Load(ObjectBtf.Sanitize(everyKind, level)))
        {
        }
        foreach (string path in TestPrograms.All())
        {
            CollectionSpec spec = CollectionSpec.Load(path);
            if (spec.KernelBtfBlob is not byte[] blob)
            {
                continue;
            }
            try
            {
                using BtfObject loaded = BtfObject.Load(ObjectBtf.Sanitize(blob, level));
                Assert.True(loaded.GetInfo().Id > 0);
            }
            catch (BtfLoadException e)
            {
                Assert.Fail($"{Path.GetFileName(path)} at {level}: {e.Message}");
            }
        }
    }
}
