using System.Text;
using System.Text.RegularExpressions;
using BpfSharp.Asm;
using BpfSharp.Elf;

namespace BpfSharp.Tests.Asm;

/// <summary>
/// The disassembler against llvm-objdump-14: every instruction of every executable section of every
/// test object, and a generated table of every instruction form LLVM 14 knows.
/// </summary>
public sealed partial class DisassemblerTests
{
    private const string Objdump = "llvm-objdump-14";

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (string path in TestPrograms.All())
        {
            data.Add(Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(path)));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void MatchesLlvmObjdumpOnEveryTestProgram(string name)
    {
        string path = TestPrograms.Path(name);
        Dictionary<string, Dictionary<int, string>> plain = ParseObjdump(ExternalTool.Run(Objdump, "-d", "--no-show-raw-insn", path));
        Dictionary<string, Dictionary<int, string>> alu32 = ParseObjdump(ExternalTool.Run(Objdump, "-d", "--no-show-raw-insn", "--mattr=+alu32", path));

        using ElfFile elf = ElfFile.Open(path);
        int compared = 0;
        foreach (ElfSection section in elf.Sections.Where(s => s.IsExecutable && s.Size > 0))
        {
            Dictionary<int, string> expectedPlain = plain[section.Name];
            Dictionary<int, string> expectedAlu32 = alu32[section.Name];
            int slot = 0;
            foreach (Instruction instruction in InstructionEncoding.Decode(section.Data.Span))
            {
                string where = $"{name}.bpf.o {section.Name} slot {slot} (opcode 0x{instruction.OpCode:x2})";
                Assert.True(expectedAlu32[slot] == Disassembler.Format(instruction, DisassemblerSyntax.Alu32), $"{where}: llvm-objdump --mattr=+alu32 prints '{expectedAlu32[slot]}', we print '{Disassembler.Format(instruction, DisassemblerSyntax.Alu32)}'");
                // llvm-objdump's default view has no form for 32-bit atomics other than a plain add
                // (it prints <unknown>, or a fetching add as a plain one); there, our default view
                // uses the alu32 form.
                bool llvmDefaultLacksForm = instruction.OpCode == 0xc3 && instruction.AtomicOperation != AtomicOperation.Add;
                string expected = llvmDefaultLacksForm ? expectedAlu32[slot] : expectedPlain[slot];
                Assert.True(expected == Disassembler.Format(instruction), $"{where}: llvm-objdump prints '{expected}', we print '{Disassembler.Format(instruction)}'");
                slot += instruction.Slots;
                compared++;
            }
            Assert.Equal(expectedPlain.Count, InstructionEncoding.Decode(section.Data.Span).Count);
        }
        Assert.True(compared > 0, $"{name}.bpf.o has no code");
    }

    [Fact]
    public void MatchesLlvmObjdumpOnEveryFormLlvm14Knows()
    {
        List<Instruction> forms = Llvm14Forms(new Random(2024));
        string directory = Directory.CreateTempSubdirectory("bpfsharp-asm").FullName;
        try
        {
            // Assemble the raw bytes with llvm-mc so llvm-objdump sees exactly our encodings.
            var source = new StringBuilder(".text\n");
            foreach (byte[] bytes in forms.Select(f => InstructionEncoding.Encode([f])))
            {
                source.Append(".byte ").AppendJoin(',', bytes.Select(b => $"0x{b:x2}")).Append('\n');
            }
            string assembly = Path.Combine(directory, "forms.s");
            string obj = Path.Combine(directory, "forms.o");
            File.WriteAllText(assembly, source.ToString());
            ExternalTool.Run("llvm-mc-14", "-triple", "bpfel", "-filetype=obj", assembly, "-o", obj);
            Dictionary<int, string> plain = ParseObjdump(ExternalTool.Run(Objdump, "-d", "--no-show-raw-insn", obj))[".text"];
            Dictionary<int, string> alu32 = ParseObjdump(ExternalTool.Run(Objdump, "-d", "--no-show-raw-insn", "--mattr=+alu32", obj))[".text"];

            int slot = 0;
            foreach (Instruction instruction in forms)
            {
                string ours = Disassembler.Format(instruction, DisassemblerSyntax.Alu32);
                Assert.True(alu32[slot] == ours, $"opcode 0x{instruction.OpCode:x2} imm {instruction.Constant}: llvm-objdump --mattr=+alu32 prints '{alu32[slot]}', we print '{ours}'");
                bool llvmDefaultLacksForm = instruction.OpCode == 0xc3 && instruction.AtomicOperation != AtomicOperation.Add;
                if (!llvmDefaultLacksForm)
                {
                    Assert.True(plain[slot] == Disassembler.Format(instruction), $"opcode 0x{instruction.OpCode:x2}: llvm-objdump prints '{plain[slot]}', we print '{Disassembler.Format(instruction)}'");
                }
                slot += instruction.Slots;
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void UndefinedOpcodesPrintUnknown()
    {
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0xe7 }));       // ALU64 op 0xe0
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0x8f }));       // neg with a register
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0x86 }));       // JMP32 call
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0xdc, Constant = 8 })); // be8
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0x3f, Offset = 2 }));   // div, offset 2
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0x99 }));       // LDX MEMSX DW
        Assert.Equal("<unknown>", Disassembler.Format(new Instruction { OpCode = 0xd3, Constant = 0x01 })); // fetch-add on bytes
    }

    [Fact]
    public void ListingShowsSlotsSymbolsAndReferences()
    {
        var a = new Assembler();
        a.Label("entry");
        a.LoadMap(Register.R1, "counts");
        a.Goto("done");
        a.Label("done");
        a.Exit();
        string listing = Disassembler.FormatListing(a.Build());
        Assert.Equal("entry:\n       0:\tld_pseudo r1, 1, 0 <counts>\n       2:\tgoto +0 <done>\ndone:\n       3:\texit\n", listing);
    }

    /// <summary>One canonical instance (unused fields zero) of every form LLVM 14 disassembles, with random operands.</summary>
    private static List<Instruction> Llvm14Forms(Random random)
    {
        Register Reg() => (Register)random.Next(0, 11);
        short Off() => (short)random.Next(short.MinValue, short.MaxValue + 1);
        int Imm() => random.Next(4) == 0 ? random.Next(-4, 64) : random.Next(int.MinValue, int.MaxValue);
        var forms = new List<Instruction>();
        AluOperation[] alu =
        [
            AluOperation.Add, AluOperation.Sub, AluOperation.Mul, AluOperation.Div, AluOperation.Or, AluOperation.And,
            AluOperation.LeftShift, AluOperation.RightShift, AluOperation.Xor, AluOperation.Move, AluOperation.ArithmeticRightShift,
        ];
        JumpOperation[] conditions =
        [
            JumpOperation.Equal, JumpOperation.Greater, JumpOperation.GreaterOrEqual, JumpOperation.NotEqual,
            JumpOperation.SignedGreater, JumpOperation.SignedGreaterOrEqual, JumpOperation.Less, JumpOperation.LessOrEqual,
            JumpOperation.SignedLess, JumpOperation.SignedLessOrEqual,
        ];
        AccessSize[] sizes = [AccessSize.Byte, AccessSize.Half, AccessSize.Word, AccessSize.DoubleWord];
        for (int round = 0; round < 8; round++)
        {
            foreach (AluOperation operation in alu)
            {
                forms.Add(Instruction.Alu64(operation, Reg(), Imm()));
                forms.Add(Instruction.Alu64(operation, Reg(), Reg()));
                forms.Add(Instruction.Alu32(operation, Reg(), Imm()));
                forms.Add(Instruction.Alu32(operation, Reg(), Reg()));
            }
            forms.Add(Instruction.Negate(Reg()));
            forms.Add(Instruction.Negate(Reg(), wide: false));
            foreach (int bits in new[] { 16, 32, 64 })
            {
                forms.Add(Instruction.ToByteOrder(ByteOrder.BigEndian, Reg(), bits));
                forms.Add(Instruction.ToByteOrder(ByteOrder.LittleEndian, Reg(), bits));
            }
            foreach (JumpOperation condition in conditions)
            {
                forms.Add(Instruction.Jump64(condition, Reg(), Imm(), Off()));
                forms.Add(Instruction.Jump64(condition, Reg(), Reg(), Off()));
                forms.Add(Instruction.Jump32(condition, Reg(), Imm(), Off()));
                forms.Add(Instruction.Jump32(condition, Reg(), Reg(), Off()));
            }
            forms.Add(Instruction.Goto(Off()));
            forms.Add(Instruction.Call((HelperFunction)random.Next(1, 212)));
            forms.Add(Instruction.CallSubprogram(Imm()));
            forms.Add(Instruction.Exit());
            forms.Add(Instruction.LoadImm64(Reg(), random.NextInt64(long.MinValue, long.MaxValue)));
            forms.Add(Instruction.LoadImm64(Reg(), (uint)Imm(), (PseudoSource)random.Next(1, 7)));
            foreach (AccessSize size in sizes)
            {
                forms.Add(Instruction.LoadMemory(size, Reg(), Reg(), Off()));
                forms.Add(Instruction.StoreMemory(size, Reg(), Off(), Reg()));
                if (size != AccessSize.DoubleWord)
                {
                    forms.Add(Instruction.LoadAbsolute(size, Imm()));
                    forms.Add(Instruction.LoadIndirect(size, Reg(), 0));
                }
            }
            foreach (AtomicOperation operation in Enum.GetValues<AtomicOperation>())
            {
                if (operation is AtomicOperation.LoadAcquire or AtomicOperation.StoreRelease)
                {
                    continue;
                }
                forms.Add(Instruction.Atomic(operation, AccessSize.Word, Reg(), Off(), Reg()));
                forms.Add(Instruction.Atomic(operation, AccessSize.DoubleWord, Reg(), Off(), Reg()));
            }
        }
        return forms;
    }

    /// <summary>Section name -> slot -> instruction text, without llvm's trailing <c>&lt;label&gt;</c> annotations.</summary>
    private static Dictionary<string, Dictionary<int, string>> ParseObjdump(string output)
    {
        var sections = new Dictionary<string, Dictionary<int, string>>();
        Dictionary<int, string>? current = null;
        foreach (string line in output.Split('\n'))
        {
            Match header = SectionHeader().Match(line);
            if (header.Success)
            {
                current = sections[header.Groups[1].Value] = [];
                continue;
            }
            Match instruction = InstructionLine().Match(line);
            if (instruction.Success && current is not null)
            {
                string text = Annotation().Replace(instruction.Groups[2].Value, "");
                current[int.Parse(instruction.Groups[1].Value)] = Whitespace().Replace(text.Trim(), " ");
            }
        }
        return sections;
    }

    [GeneratedRegex(@"^Disassembly of section (.+):$")]
    private static partial Regex SectionHeader();

    [GeneratedRegex(@"^\s+(\d+):\t(.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@" <[^<>]*>$")]
    private static partial Regex Annotation();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
