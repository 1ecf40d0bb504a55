using System.CommandLine;
using BpfSharp.Asm;
using BpfSharp.Elf;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp disasm OBJECT</c>: the code of a compiled BPF object, in the syntax llvm-objdump
/// prints, with function and label names and what each relocated instruction refers to.
/// </summary>
internal static class DisasmCommand
{
    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var section = new Option<string?>("--section") { Description = "Only this section (e.g. xdp, .text)" };
        var alu32 = new Option<bool>("--alu32") { Description = "Name 32-bit subregisters in 1-4 byte loads and stores (code built with -mcpu=v3 or later)" };
        var command = new Command("disasm", "Disassemble the programs in a BPF object file");
        command.Arguments.Add(file);
        command.Options.Add(section);
        command.Options.Add(alu32);
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            try
            {
                using ElfFile elf = ElfFile.Open(path);
                return Print(elf, parseResult.GetValue(section), parseResult.GetValue(alu32) ? DisassemblerSyntax.Alu32 : DisassemblerSyntax.Default);
            }
            catch (Exception e) when (e is ElfException or FormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp disasm: {path}: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Print(ElfFile elf, string? only, DisassemblerSyntax syntax)
    {
        if (elf.Header.Machine != ElfMachine.Bpf)
        {
            Console.Error.WriteLine($"bpfsharp disasm: not a BPF object (e_machine is {elf.Header.Machine}); compile with clang -target bpf");
            return 1;
        }
        List<ElfSection> sections = elf.Sections.Where(s => s.IsExecutable && s.Size > 0 && (only is null || s.Name == only)).ToList();
        if (sections.Count == 0)
        {
            Console.Error.WriteLine(only is null
                ? "bpfsharp disasm: the object has no code sections"
                : $"bpfsharp disasm: no code section named '{only}'; code sections: {string.Join(", ", elf.Sections.Where(s => s.IsExecutable && s.Size > 0).Select(s => s.Name))}");
            return 1;
        }
        foreach (ElfSection section in sections)
        {
            Console.WriteLine($"Disassembly of section {section.Name}:");
            Console.WriteLine();
            Console.Write(Disassembler.FormatListing(Annotate(elf, section), syntax));
            Console.WriteLine();
        }
        return 0;
    }

    /// <summary>Decodes a section's code and names its instructions from the symbol and relocation tables.</summary>
    private static List<Instruction> Annotate(ElfFile elf, ElfSection section)
    {
        List<Instruction> code = InstructionEncoding.Decode(section.Data.Span);
        ElfSymbolTable? symbols = elf.SymbolTable;
        // Functions and local labels of every section, by (section, offset).
        var labels = new Dictionary<(uint Section, ulong Offset), string>();
        var references = new Dictionary<ulong, ElfSymbol>();
        if (symbols is not null)
        {
            foreach (ElfSymbol symbol in symbols)
            {
                bool named = symbol.Type is ElfSymbolType.Function or ElfSymbolType.NoType && symbol.Name.Length > 0;
                // A function name wins over a local label at the same offset.
                if (named && (symbol.Type == ElfSymbolType.Function || !labels.ContainsKey((symbol.SectionIndex, symbol.Value))))
                {
                    labels[(symbol.SectionIndex, symbol.Value)] = symbol.Name;
                }
            }
            foreach (ElfRelocationSection relocations in elf.RelocationSections.Where(r => r.TargetSectionIndex == (uint)section.Index))
            {
                foreach (ElfRelocation relocation in relocations)
                {
                    references[relocation.Offset] = symbols[(int)relocation.SymbolIndex];
                }
            }
        }

        ulong offset = 0;
        for (int i = 0; i < code.Count; offset += (ulong)(code[i].Slots * InstructionEncoding.SlotSize), i++)
        {
            Instruction instruction = code[i];
            string? reference = references.TryGetValue(offset, out ElfSymbol target)
                ? NameOf(elf, target, instruction, labels)
                : null;
            if (reference is null && instruction.IsBranch)
            {
                // Local jumps need no relocation; name their target as llvm-objdump does.
                long destination = (long)offset + ((long)instruction.RelativeTarget + 1) * InstructionEncoding.SlotSize;
                reference = destination >= 0 ? labels.GetValueOrDefault(((uint)section.Index, (ulong)destination)) : null;
            }
            code[i] = instruction with { Symbol = labels.GetValueOrDefault(((uint)section.Index, offset)), Reference = reference };
        }
        return code;
    }

    /// <summary>
    /// What a relocated instruction refers to: the symbol's name, or for a section symbol (clang's way
    /// to reach static functions and data) the function at the offset the instruction encodes, else
    /// the section's name.
    /// </summary>
    private static string NameOf(ElfFile elf, ElfSymbol target, Instruction instruction, Dictionary<(uint, ulong), string> labels)
    {
        if (target.Type != ElfSymbolType.Section)
        {
            return target.Name;
        }
        if (target.SectionIndex >= (uint)elf.Sections.Count)
        {
            return $"section {target.SectionIndex}";
        }
        ElfSection section = elf.Sections[(int)target.SectionIndex];
        if (section.IsExecutable)
        {
            // A call encodes its target as a slot distance, a function address load as a byte offset.
            long offset = instruction.IsCall ? (instruction.Constant + 1) * InstructionEncoding.SlotSize : instruction.Constant;
            if (offset >= 0 && labels.TryGetValue((target.SectionIndex, target.Value + (ulong)offset), out string? function))
            {
                return function;
            }
        }
        return section.Name;
    }
}
