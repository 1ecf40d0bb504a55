using System.Text.RegularExpressions;

namespace BpfSharp.Tests.Cli;

public sealed partial class DisasmCommandTests
{
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "bpfsharp");

    [Fact]
    public void PrintsFunctionsLabelsAndRelocatedNamesLikeLlvmObjdump()
    {
        string path = TestPrograms.Path("subprograms");
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "disasm", path, "--no-source");
        Assert.True(exitCode == 0, error);
        Assert.Contains("Disassembly of section tracepoint/syscalls/sys_enter_getpid:", output);
        Assert.Contains("on_getpid:\n", output);
        Assert.Contains("count_pid:\n", output);
        Assert.Matches(@"r1 = 0 ll <per_pid>", output);
        Assert.Matches(@"call -1 <count_pid>", output);

        // Every instruction line matches llvm-objdump -d; where llvm annotates a local jump with its
        // target label, so do we (we also name relocation targets, which llvm prints only with -r).
        string expected = ExternalTool.Run("llvm-objdump-14", "-d", "--no-show-raw-insn", path);
        List<string> ours = InstructionLines().Matches(output).Select(m => m.Value.Trim()).ToList();
        List<string> llvm = InstructionLines().Matches(expected).Select(m => m.Value.Trim()).ToList();
        Assert.Equal(llvm.Count, ours.Count);
        for (int i = 0; i < llvm.Count; i++)
        {
            Assert.Equal(Annotation().Replace(llvm[i], ""), Annotation().Replace(ours[i], ""));
            if (Annotation().IsMatch(llvm[i]))
            {
                Assert.Equal(llvm[i], ours[i]);
            }
        }
        // Static functions are reached through the .text section symbol; we name the function.
        Assert.Matches(@"call 37 <fold>", output);
        Assert.Matches(@"r2 = 192 ll <add_step>", output);
    }

    [Fact]
    public void ExplainsWhatIsWrongWithTheInput()
    {
        (int exitCode, _, string error) = ExternalTool.Execute(Tool, "obj", "disasm", "/bin/ls");
        Assert.Equal(1, exitCode);
        Assert.Contains("not a BPF object", error);

        (exitCode, _, error) = ExternalTool.Execute(Tool, "obj", "disasm", TestPrograms.Path("minimal"), "--section", "kprobe/nothing");
        Assert.Equal(1, exitCode);
        Assert.Contains("no code section named 'kprobe/nothing'; code sections: xdp", error);

        (exitCode, _, error) = ExternalTool.Execute(Tool, "obj", "disasm", "/etc/hostname");
        Assert.Equal(1, exitCode);
        Assert.Contains("not an ELF file", error);
    }

    [GeneratedRegex(@"(?m)^\s+\d+:\t.*$")]
    private static partial Regex InstructionLines();

    [GeneratedRegex(@" <[^<>]*>$")]
    private static partial Regex Annotation();
}
