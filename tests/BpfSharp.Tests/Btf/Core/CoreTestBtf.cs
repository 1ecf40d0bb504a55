using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf.Core;

/// <summary>A small BTF under construction for CO-RE tests, with the common integer types already added.</summary>
internal sealed class CoreTestBtf
{
    private BtfSpec? _spec;

    public CoreTestBtf(BtfSpec? baseSpec = null)
    {
        Builder = new BtfBuilder(baseSpec);
        if (baseSpec is null)
        {
            Int = Builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
            UInt = Builder.Add(BtfTypeDefinition.Int("unsigned int", 4));
            Long = Builder.Add(BtfTypeDefinition.Int("long", 8, BtfIntEncoding.Signed));
            ULong = Builder.Add(BtfTypeDefinition.Int("unsigned long", 8));
            Short = Builder.Add(BtfTypeDefinition.Int("short", 2, BtfIntEncoding.Signed));
        }
    }

    public BtfBuilder Builder { get; }

    public int Int { get; }

    public int UInt { get; }

    public int Long { get; }

    public int ULong { get; }

    public int Short { get; }

    public int Add(BtfTypeDefinition type) => Builder.Add(type);

    public int Struct(string? name, uint size, params BtfMemberDefinition[] members) => Builder.Add(BtfTypeDefinition.Struct(name, size, members));

    public int Union(string? name, uint size, params BtfMemberDefinition[] members) => Builder.Add(BtfTypeDefinition.Union(name, size, members));

    public int Enum(string name, params (string Name, long Value)[] values) =>
        Builder.Add(BtfTypeDefinition.Enum(name, 4, values.Any(v => v.Value < 0), values.Select(v => new BtfEnumeratorDefinition(v.Name, v.Value))));

    public int Array(int element, uint count) => Builder.Add(BtfTypeDefinition.Array(element, Int, count));

    public int Pointer(int target) => Builder.Add(BtfTypeDefinition.Pointer(target));

    public BtfSpec Spec => _spec ??= Builder.BuildSpec();

    public static BtfMemberDefinition M(string? name, int type, uint bitOffset, int bitfieldSize = 0) => new(name, type, bitOffset, bitfieldSize);
}
