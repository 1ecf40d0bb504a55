using System.CommandLine;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Elf;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp obj disasm FILE [PROGRAM]</c>: the code of a BPF object like <c>llvm-objdump -d -S</c> (every code
/// section in llvm-objdump's syntax, with function and label names, what each relocated instruction refers to, and
/// the C source lines from .BTF.ext line info before the instructions compiled from them), or one program linked
/// with its subprograms as the loader hands it to the kernel.
/// </summary>
internal static class ObjDisasmCommand
{
    private const string Name = "bpfsharp obj disasm";

    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var program = new Argument<string?>("program") { Description = "Only this program, linked with the subprograms it calls", Arity = ArgumentArity.ZeroOrOne };
        var section = new Option<string?>("--section") { Description = "Only this section (e.g. xdp, .text)" };
        var alu32 = new Option<bool>("--alu32") { Description = "Name 32-bit subregisters in 1-4 byte loads and stores (code built with -mcpu=v3 or later)" };
        var noSource = new Option<bool>("--no-source") { Description = "Do not interleave C source lines (from .BTF.ext line info)" };
        var command = new Command("disasm", "Disassemble the programs in a BPF object file, with their C source lines");
        command.Arguments.Add(file);
        command.Arguments.Add(program);
        command.Options.Add(section);
        command.Options.Add(alu32);
        command.Options.Add(noSource);
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            DisassemblerSyntax syntax = parseResult.GetValue(alu32) ? DisassemblerSyntax.Alu32 : DisassemblerSyntax.Default;
            bool source = !parseResult.GetValue(noSource);
            try
            {
                if (parseResult.GetValue(program) is { } name)
                {
                    return PrintProgram(CollectionSpec.Load(path), name, syntax, source);
                }
                using ElfFile elf = ElfFile.Open(path);
                return Print(elf, parseResult.GetValue(section), syntax, source);
            }
            catch (Exception e) when (e is ElfException or BpfObjectException or FormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Console.Error.WriteLine($"{Name}: {path}: {e.Message}");
                return 1;
            }
            catch (KeyNotFoundException e)
            {
                Console.Error.WriteLine($"{Name}: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int PrintProgram(CollectionSpec spec, string name, DisassemblerSyntax syntax, bool source)
    {
        LinkedProgram linked = spec.Link(name);
        Console.WriteLine($"Program {name} (section {spec.Program(name).SectionName}), linked with its subprograms:");
        Console.WriteLine();
        var lines = new Dictionary<int, string>();
        if (source)
        {
            foreach (BtfLineInfo line in linked.Lines)
            {
                lines[(int)line.InstructionIndex] = line.SourceLine;
            }
        }
        Console.Write(Disassembler.FormatListing(linked.Instructions, syntax, slot => lines.GetValueOrDefault(slot)));
        return 0;
    }

    private static int Print(ElfFile elf, string? only, DisassemblerSyntax syntax, bool source)
    {
        if (elf.Header.Machine != ElfMachine.Bpf)
        {
            Console.Error.WriteLine($"{Name}: not a BPF object (e_machine is {elf.Header.Machine}); compile with clang -target bpf");
            return 1;
        }
        BtfExt? ext = source ? ReadLineInfo(elf) : null;
        List<ElfSection> sections = elf.Sections.Where(s => s.IsExecutable && s.Size > 0 && (only is null || s.Name == only)).ToList();
        if (sections.Count == 0)
        {
            Console.Error.WriteLine(only is null
                ? $"{Name}: the object has no code sections"
                : $"{Name}: no code section named '{only}'; code sections: {string.Join(", ", elf.Sections.Where(s => s.IsExecutable && s.Size > 0).Select(s => s.Name))}");
            return 1;
        }
        foreach (ElfSection section in sections)
        {
            Console.WriteLine($"Disassembly of section {section.Name}:");
            Console.WriteLine();
            Dictionary<int, string>? lines = null;
            if (ext is not null && ext.LineInfos.TryGetValue(section.Name, out IReadOnlyList<BtfLineInfo>? records))
            {
                lines = new Dictionary<int, string>();
                foreach (BtfLineInfo line in records)
                {
                    lines[(int)line.InstructionIndex] = line.SourceLine;
                }
            }
            Console.Write(Disassembler.FormatListing(Annotate(elf, section), syntax, lines is null ? null : slot => lines.GetValueOrDefault(slot)));
            Console.WriteLine();
        }
        return 0;
    }

    /// <summary>Decodes a section's code and names its instructions from the symbol and relocation tables.</summary>
    // Source lines are a bonus: an object with broken or no BTF still disassembles.
    private static BtfExt? ReadLineInfo(ElfFile elf)
    {
        if (!elf.TryGetSection(".BTF", out ElfSection btf) || !elf.TryGetSection(".BTF.ext", out ElfSection ext))
        {
            return null;
        }
        try
        {
            return BtfExt.Parse(ext.Data, BtfSpec.Parse(btf.Data));
        }
        catch (BtfException)
        {
            return null;
        }
    }

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
