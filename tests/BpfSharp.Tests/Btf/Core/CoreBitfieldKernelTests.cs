using System.Buffers.Binary;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Elf;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Btf.Core;

/// <summary>
/// Bitfield relocations of core_bitfields.bpf.c: the values computed from the object's BTF equal
/// what clang put in the instructions, and a program relocated for a rearranged layout extracts
/// the right bits in the kernel.
/// </summary>
public sealed class CoreBitfieldKernelTests
{
    private const string Section = "syscall";

    private static (BtfSpec Btf, BtfExt Ext, List<Instruction> Instructions) ReadObject()
    {
        using ElfFile elf = ElfFile.Read(TestPrograms.Path("core_bitfields"));
        Assert.True(elf.TryGetSection(Section, out ElfSection code));
        BtfSpec btf = BtfSpec.FromElf(elf);
        return (btf, BtfExt.FromElf(elf, btf)!, InstructionEncoding.Decode(code.Data.Span));
    }

    private static Instruction AtSlot(List<Instruction> instructions, uint slot)
    {
        uint position = 0;
        foreach (Instruction instruction in instructions)
        {
            if (position == slot)
            {
                return instruction;
            }
            position += (uint)instruction.Slots;
        }
        throw new InvalidOperationException($"no instruction starts at slot {slot}");
    }

    // What BPF_CORE_READ_BITFIELD_PROBED computes from a field's relocated values.
    private static long Extract(ReadOnlySpan<byte> memory, IReadOnlyDictionary<BtfCoreRelocationKind, ulong> values)
    {
        ulong loaded = 0;
        for (int i = (int)values[BtfCoreRelocationKind.FieldByteSize] - 1; i >= 0; i--)
        {
            loaded = loaded << 8 | memory[(int)values[BtfCoreRelocationKind.FieldByteOffset] + i];
        }
        loaded <<= (int)values[BtfCoreRelocationKind.FieldLShiftU64];
        int right = (int)values[BtfCoreRelocationKind.FieldRShiftU64];
        return values[BtfCoreRelocationKind.FieldSigned] != 0 ? (long)loaded >> right : (long)(loaded >> right);
    }

    [Fact]
    public void Values_from_the_object_btf_extract_what_clang_compiled_code_extracts()
    {
        (BtfSpec btf, BtfExt ext, List<Instruction> instructions) = ReadObject();
        IReadOnlyList<CoreRelocationResult> results = CoreRelocator.Resolve(btf, ext, Section, CoreTarget.FromSpec(btf));
        // For each of the four fields: offset, size, left shift, signedness, and the right shift of both branches.
        Assert.Equal(24, results.Count);
        var random = new Random(2310);
        foreach (IGrouping<string, CoreRelocationResult> field in results.GroupBy(r => r.LocalAccess))
        {
            var ours = new Dictionary<BtfCoreRelocationKind, ulong>();
            var compiled = new Dictionary<BtfCoreRelocationKind, ulong>();
            foreach (CoreRelocationResult result in field)
            {
                Assert.Equal(result.OriginalValue, result.NewValue);
                Instruction instruction = AtSlot(instructions, result.InstructionIndex);
                ours[result.Kind] = result.OriginalValue;
                compiled[result.Kind] = (ulong)instruction.Constant;
            }
            Assert.Equal(5, ours.Count);
            // Signedness and the right shift are never ambiguous; for a bitfield the compiler may pick
            // another (equally valid) load width, so offset, size and left shift are checked by effect.
            Assert.Equal(compiled[BtfCoreRelocationKind.FieldSigned], ours[BtfCoreRelocationKind.FieldSigned]);
            Assert.Equal(compiled[BtfCoreRelocationKind.FieldRShiftU64], ours[BtfCoreRelocationKind.FieldRShiftU64]);
            byte[] memory = new byte[16];
            for (int trial = 0; trial < 64; trial++)
            {
                random.NextBytes(memory);
                Assert.Equal(Extract(memory, compiled), Extract(memory, ours));
            }
        }
    }

    [KernelFact]
    [Trait("Category", "Kernel")]
    public void Program_relocated_for_a_rearranged_layout_extracts_the_target_bits()
    {
        (BtfSpec btf, BtfExt ext, List<Instruction> instructions) = ReadObject();
        // The target kernel's struct flags: same fields and size, other places.
        BtfType flags = btf.FindType("flags", BtfKind.Struct);
        Dictionary<string, int> types = flags.Members.ToDictionary(m => m.Name, m => m.TypeId);
        var layout = new (string Name, uint BitOffset, int Bits, long Value)[]
        {
            ("neg", 0, 20, -123456),
            ("big", 20, 40, 0xAB_CDEF_0123),
            ("lo", 64, 3, 5),
            ("mid", 67, 5, -7),
            ("pad", 72, 24, 0xFFFFFF),
        };
        BtfBuilder builder = BtfBuilder.From(btf);
        builder.Replace(flags.Id, BtfTypeDefinition.Struct("flags", flags.Size,
            layout.Select(f => new BtfMemberDefinition(f.Name, types[f.Name], f.BitOffset, f.Bits))));
        CoreRelocationReport report = CoreRelocator.Apply(instructions, Section, btf, ext, CoreTarget.FromSpec(builder.BuildSpec()));
        Assert.Equal(0, report.PoisonedCount);

        using Program program = Program.Load(new ProgramSpec
        {
            Name = "read_bitfields",
            Type = ProgramType.Syscall,
            Flags = ProgramFlags.Sleepable,
            Instructions = instructions,
            License = "GPL",
        });
        byte[] context = new byte[16 + 4 * sizeof(long)];
        foreach ((_, uint bitOffset, int bits, long value) in layout)
        {
            for (int i = 0; i < bits; i++)
            {
                if (((value >> i) & 1) != 0)
                {
                    int bit = (int)bitOffset + i;
                    context[bit / 8] |= (byte)(1 << (bit % 8));
                }
            }
        }
        // A syscall program's context is copied back to the caller's buffer after the run.
        Assert.Equal(0u, program.TestRun(new TestRunOptions { Context = context }).ReturnValue);
        long Read(int index) => BinaryPrimitives.ReadInt64LittleEndian(context.AsSpan(16 + index * sizeof(long)));
        Assert.Equal((5L, -7L, 0xAB_CDEF_0123L, -123456L), (Read(0), Read(1), Read(2), Read(3)));
    }
}
