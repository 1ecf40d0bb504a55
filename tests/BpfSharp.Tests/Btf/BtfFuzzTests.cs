using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>
/// Corrupt and truncated BTF: every failure must be a <see cref="BtfException"/>, never a crash,
/// a hang or another exception type, whatever the reader is asked to do with the blob.
/// </summary>
public sealed class BtfFuzzTests
{
    [Fact]
    public void Every_truncation_of_object_BTF_is_rejected_or_read_safely()
    {
        byte[] blob = BtfTestData.Btf("btf_kinds");
        for (int length = 0; length < blob.Length; length++)
        {
            ExerciseExpectingOnlyBtfException(blob.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void Truncated_header_and_sections_say_what_is_wrong()
    {
        byte[] blob = BtfTestData.Btf("btf_kinds");
        Assert.Contains("shorter than the 24-byte header", Assert.Throws<BtfException>(() => BtfSpec.Parse(blob.AsMemory(0, 10))).Message);
        Assert.Contains("truncated", Assert.Throws<BtfException>(() => BtfSpec.Parse(blob.AsMemory(0, blob.Length - 1))).Message);
        byte[] badMagic = (byte[])blob.Clone();
        badMagic[0] = 0;
        Assert.Contains("magic", Assert.Throws<BtfException>(() => BtfSpec.Parse(badMagic)).Message);
        byte[] elf = File.ReadAllBytes(TestPrograms.Path("btf_kinds"));
        Assert.Contains("ELF object, not raw BTF", Assert.Throws<BtfException>(() => BtfSpec.Parse(elf)).Message);
        byte[] bigEndian = (byte[])blob.Clone();
        (bigEndian[0], bigEndian[1]) = (bigEndian[1], bigEndian[0]);
        Assert.Contains("big-endian", Assert.Throws<BtfException>(() => BtfSpec.Parse(bigEndian)).Message);
    }

    [Fact]
    public void An_unknown_kind_is_named()
    {
        var builder = new BtfBuilder();
        builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
        byte[] blob = builder.Build();
        blob[24 + 7] = 25; // kind byte of type 1: 25 is not a BTF kind
        BtfException error = Assert.Throws<BtfException>(() => BtfSpec.Parse(blob));
        Assert.Contains("unknown kind 25", error.Message);
        Assert.Contains("type 1", error.Message);
    }

    [Fact]
    public void Reference_cycles_end_in_BtfException_not_a_hang()
    {
        var builder = new BtfBuilder();
        int first = builder.Add(BtfTypeDefinition.Typedef("a", 2));
        builder.Add(BtfTypeDefinition.Typedef("b", first));
        int pointer = builder.Add(BtfTypeDefinition.Pointer(4));
        builder.Add(BtfTypeDefinition.Const(pointer));
        int selfStruct = builder.NextTypeId;
        builder.Add(BtfTypeDefinition.Struct("self", 8, [new("inner", selfStruct, 0)]));
        BtfSpec spec = builder.BuildSpec();
        Assert.Throws<BtfException>(() => spec.ResolveTypedefsAndQualifiers(first));
        Assert.Throws<BtfException>(() => spec.SizeOf(first));
        Assert.Throws<BtfException>(() => spec.FormatC(pointer, "p"));
        Assert.Throws<BtfException>(() => spec.AlignOf(selfStruct));
        Assert.Throws<BtfException>(() => BtfCWriter.WriteHeader(spec, Stream.Null));
    }

    [Fact]
    public void Random_corruption_of_object_BTF_only_throws_BtfException()
    {
        byte[] original = BtfTestData.Btf("btf_kinds");
        var random = new Random(20261123);
        for (int round = 0; round < 3000; round++)
        {
            byte[] blob = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
            {
                int position = random.Next(blob.Length);
                blob[position] = random.Next(3) switch
                {
                    0 => (byte)(blob[position] ^ (1 << random.Next(8))),
                    1 => 0xff,
                    _ => (byte)random.Next(256),
                };
            }
            ExerciseExpectingOnlyBtfException(blob);
        }
    }

    [Fact]
    public void Corrupted_kernel_BTF_dumps_or_throws_BtfException_in_bounded_time()
    {
        byte[] original = KernelBtf.Vmlinux.RawData.ToArray();
        var random = new Random(1123);
        for (int round = 0; round < 25; round++)
        {
            byte[] blob = (byte[])original.Clone();
            blob[BtfSpec.HeaderMinimumLength + random.Next(blob.Length - BtfSpec.HeaderMinimumLength)] = (byte)random.Next(256);
            var timer = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                BtfSpec spec = BtfSpec.Parse(blob);
                BtfCWriter.WriteHeader(spec, Stream.Null);
                BtfRawWriter.Write(spec, TextWriter.Null);
            }
            catch (BtfException)
            {
            }
            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(20), $"round {round} took {timer.Elapsed}");
        }
    }

    [Fact]
    public void Random_corruption_of_BTF_ext_only_throws_BtfException()
    {
        BtfSpec btf = BtfTestData.Spec("btf_core");
        byte[] original = BtfTestData.Ext("btf_core");
        var random = new Random(7);
        for (int round = 0; round < 3000; round++)
        {
            byte[] blob = (byte[])original.Clone();
            blob[random.Next(blob.Length)] = (byte)random.Next(256);
            try
            {
                BtfExt ext = BtfExt.Parse(blob, btf);
                Assert.NotNull(ext.FunctionInfos);
            }
            catch (BtfException)
            {
            }
        }
    }

    /// <summary>Parses, then walks every type through every accessor, the writers included.</summary>
    private static void ExerciseExpectingOnlyBtfException(byte[] blob)
    {
        try
        {
            BtfSpec spec = BtfSpec.Parse(blob);
            for (int id = 1; id < spec.TypeIdLimit; id++)
            {
                try
                {
                    Touch(spec, spec[id]);
                }
                catch (BtfException)
                {
                }
            }
            try
            {
                BtfCWriter.WriteHeader(spec, Stream.Null);
            }
            catch (BtfException)
            {
            }
            try
            {
                BtfRawWriter.Write(spec, TextWriter.Null);
            }
            catch (BtfException)
            {
            }
            spec.TryFindType("record", BtfKind.Struct, out _);
        }
        catch (BtfException)
        {
        }
    }

    private static void Touch(BtfSpec spec, BtfType type)
    {
        _ = type.Name;
        switch (type.Kind)
        {
            case BtfKind.Struct or BtfKind.Union:
                foreach (BtfMember member in type.Members)
                {
                    _ = member.Name;
                    spec.TryGetType(member.TypeId, out _);
                }
                spec.IsPacked(type.Id);
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                foreach (BtfEnumerator enumerator in type.Enumerators)
                {
                    _ = enumerator.Name;
                }
                break;
            case BtfKind.FunctionProto:
                foreach (BtfParameter parameter in type.Parameters)
                {
                    _ = parameter.Name;
                }
                break;
            case BtfKind.DataSection:
                foreach (BtfDataSectionVariable variable in type.Variables)
                {
                    spec.TryGetType(variable.TypeId, out _);
                }
                break;
            case BtfKind.Array:
                _ = type.Array;
                break;
        }
        _ = type.ToString();
        _ = spec.FormatC(type.Id, "x");
        if (type.Kind is not (BtfKind.Function or BtfKind.FunctionProto or BtfKind.Forward or BtfKind.DeclTag or BtfKind.Void))
        {
            try
            {
                spec.SizeOf(type.Id);
            }
            catch (BtfException)
            {
            }
        }
    }
}
