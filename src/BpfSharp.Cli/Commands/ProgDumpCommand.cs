using System.CommandLine;
using BpfSharp.Asm;
using BpfSharp.Programs;
using BpfSharp.Symbols;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp prog dump</c>: a loaded program's instructions as the kernel runs them after verification and
/// rewriting (like <c>bpftool prog dump xlated</c>): map references appear as map ids, helper calls resolved.
/// </summary>
internal static class ProgDumpCommand
{
    internal static Command Create()
    {
        var id = new Option<uint?>("--id") { Description = "The program's id (from bpfsharp prog list)" };
        var name = new Option<string?>("--name") { Description = "The program's name, when exactly one program has it" };
        var pinned = new Option<string?>("--pinned") { Description = "The program's pin path in bpffs" };
        var command = new Command("dump", "Disassemble a loaded program's translated (verified and rewritten) instructions (give --id, --name or --pinned)")
        {
            id, name, pinned,
        };
        command.SetAction(parse =>
        {
            using BpfSharp.Programs.Program program = Open(parse.GetValue(id), parse.GetValue(name), parse.GetValue(pinned));
            ProgramInfo info = program.GetInfo();
            TextWriter output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{info.Id}: {BpfSharp.Kernel.UapiNames.Name(info.Type)} name {info.Name} tag {info.Tag}, {info.XlatedSize} bytes translated, {info.JitedSize} jited");
            output.Write(Disassembler.FormatListing(Annotate(program.GetTranslatedInstructions())));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Names what the translated code refers to, as bpftool does: a helper call's immediate is the helper's offset from
    /// <c>__bpf_call_base</c> (named through kallsyms), and a map load's immediate is the map's id.
    /// </summary>
    private static IEnumerable<Instruction> Annotate(IReadOnlyList<Instruction> instructions)
    {
        KernelSymbols symbols = KernelSymbols.Current;
        ulong? callBase = symbols.Find("__bpf_call_base")?.Address;
        Dictionary<uint, string>? mapNames = null;
        foreach (Instruction instruction in instructions)
        {
            if (instruction.IsHelperCall && callBase is ulong baseAddress && baseAddress != 0
                && symbols.TryResolve(baseAddress + (ulong)(long)(int)instruction.Constant, out KernelSymbol helper, out ulong offset) && offset == 0)
            {
                yield return instruction with { Reference = helper.Name };
            }
            else if (instruction.IsLoadImm64 && instruction.PseudoSource is PseudoSource.MapFd or PseudoSource.MapValue)
            {
                mapNames ??= BpfSharp.Maps.Map.All().ToDictionary(m => m.Id, m => m.Name);
                uint mapId = (uint)instruction.Constant;
                string name = mapNames.TryGetValue(mapId, out string? found) ? $" {found}" : "";
                string value = instruction.PseudoSource == PseudoSource.MapValue ? $" value+{(uint)(instruction.Constant >> 32)}" : "";
                yield return instruction with { Reference = $"map id {mapId}{name}{value}" };
            }
            else
            {
                yield return instruction;
            }
        }
    }

    private static BpfSharp.Programs.Program Open(uint? id, string? name, string? pinned) =>
        ObjectSelector.Open(id, name, pinned, "prog", () => BpfSharp.Programs.Program.All().Select(p => (p.Id, p.Name)),
            BpfSharp.Programs.Program.FromId, path => BpfSharp.Programs.Program.OpenPinned(path));
}
