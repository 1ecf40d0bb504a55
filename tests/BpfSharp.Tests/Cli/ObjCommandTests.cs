using System.Text.RegularExpressions;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Cli;

public sealed partial class ObjCommandTests
{
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "bpfsharp");

    [Fact]
    public void InfoListsProgramsMapsVariablesExternsAndCoreRelocations()
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("subprograms"));
        Assert.True(exitCode == 0, error);
        Assert.Matches(@"on_getpid\s+tracepoint/syscalls/sys_enter_getpid\s+Tracepoint\s+-\s+syscalls/sys_enter_getpid", output);
        Assert.Matches(@"Subprograms: (add_step|fold|count_pid), (add_step|fold|count_pid), (add_step|fold|count_pid)\n", output);
        Assert.Matches(@"per_pid\s+\.maps\s+Hash\s+4\s+8\s+128\s+-\s+key __u32; value __u64", output);
        Assert.Matches(@"subprogr\.rodata\s+\.rodata\s+Array\s+4\s+4\s+1\s+ReadOnlyProgram, Mmapable\s+value \.rodata", output);
        Assert.Matches(@"depth_limit\s+\.rodata\s+0\s+4\s+const volatile __u32", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("tail_calls"));
        Assert.True(exitCode == 0, error);
        Assert.Contains("initial [0]=tail_unused, [1]=tail_drop", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("core_loader"));
        Assert.True(exitCode == 0, error);
        Assert.Contains("CO-RE relocations:", output);
        Assert.Matches(@"FieldExists\s+STRUCT 'task_struct___other'\s+0:1", output);
        Assert.Matches(@"kfunc|ksym|kconfig", ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("externs")).Output);
    }

    [Fact]
    public void InfoExplainsBadInput()
    {
        (int exitCode, _, string error) = ExternalTool.Execute(Tool, "obj", "info", "/etc/hostname");
        Assert.Equal(1, exitCode);
        Assert.Contains("not a valid ELF object", error);
    }

    [Fact]
    public void DisasmInterleavesSourceLinesFromLineInfo()
    {
        string path = TestPrograms.Path("subprograms");
        (int exitCode, string withSource, string error) = ExternalTool.Execute(Tool, "obj", "disasm", path);
        Assert.True(exitCode == 0, error);
        (_, string without, _) = ExternalTool.Execute(Tool, "obj", "disasm", path, "--no-source");
        Assert.Contains("; \tbpf_loop(16, add_step, &state, 0);\n", withSource);
        Assert.Contains("; int on_getpid(void *ctx)\non_getpid:\n".Replace("; int on_getpid(void *ctx)\non_getpid:", "on_getpid:\n; int on_getpid(void *ctx)"), withSource);
        // The same instructions, only with comment lines added.
        Assert.Equal(without.Split('\n').Where(l => !l.StartsWith("; ")), withSource.Split('\n').Where(l => !l.StartsWith("; ")));
    }

    [Fact]
    public void DisasmOfOneProgramShowsItLinkedWithItsSubprograms()
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "disasm", TestPrograms.Path("subprograms"), "on_getpid");
        Assert.True(exitCode == 0, error);
        Assert.Contains("on_getpid:\n", output);
        Assert.Contains("count_pid:\n", output);
        Assert.Contains("add_step:\n", output);
        Assert.Contains("fold:\n", output);
        // Calls now point at the appended subprograms: call N jumps to the slot after it plus N.
        Match call = Regex.Match(output, @"(?m)^\s+(\d+):\tcall (\d+) <count_pid>$");
        Assert.True(call.Success, output);
        int target = int.Parse(call.Groups[1].Value) + 1 + int.Parse(call.Groups[2].Value);
        Assert.Matches($@"count_pid:\n(; .*\n)*\s+{target}:\t", output);

        (exitCode, _, error) = ExternalTool.Execute(Tool, "obj", "disasm", TestPrograms.Path("subprograms"), "nope");
        Assert.Equal(1, exitCode);
        Assert.Contains("has no program 'nope'; its programs: on_getpid", error);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void LoadReportsLoadedAndRejectedPrograms()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() != 0)
        {
            return;
        }
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "load", TestPrograms.Path("minimal"));
        Assert.True(exitCode == 0, error);
        Assert.Matches(@"loaded count_runs \(xdp\): Xdp program id \d+", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "load", TestPrograms.Path("verifier_reject"));
        Assert.Equal(1, exitCode);
        Assert.Contains("program 'reads_too_far' (xdp) was rejected", error);
        Assert.Contains("verifier_reject.bpf.c:", error);
        Assert.Contains("loaded accepted", output);
        Assert.Contains("failed reads_too_far", output);
    }

    /// <summary>
    /// bpfsharp obj load and Debian's bpftool prog loadall agree, object by object, on whether the object
    /// loads and which programs get pinned; the legacy-maps object is the one bpftool refuses and we load.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void LoadAgreesWithBpftoolLoadallOnEveryCorpusObject()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() != 0)
        {
            return;
        }
        string root = $"/sys/fs/bpf/bpfsharp-loadall-{Guid.NewGuid():N}";
        // libbpf pins LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf whatever the target directory; so do we.
        string sharedPin = "/sys/fs/bpf/shared_runs";
        bool sharedExisted = File.Exists(sharedPin);
        Directory.CreateDirectory(root);
        var disagreements = new List<string>();
        try
        {
            foreach (string path in TestPrograms.All())
            {
                string name = Path.GetFileName(path);
                // bpffs refuses names with dots.
                string stem = name.Replace('.', '_');
                string theirs = Path.Combine(root, stem + "_bpftool");
                string ours = Path.Combine(root, stem + "_bpfsharp");
                Directory.CreateDirectory(theirs);
                (int bpftoolExit, _, _) = ExternalTool.Execute("bpftool", "prog", "loadall", path, theirs);
                if (!sharedExisted)
                {
                    File.Delete(sharedPin);
                }
                (int ourExit, _, string ourError) = ExternalTool.Execute(Tool, "obj", "load", path, "--pin", ours);
                if (!sharedExisted)
                {
                    File.Delete(sharedPin);
                }
                string[] bpftoolPins = Pins(theirs);
                string[] ourPins = Pins(ours);
                if (name == "legacy_maps.bpf.o")
                {
                    Assert.NotEqual(0, bpftoolExit);
                    Assert.True(ourExit == 0, ourError);
                    Assert.Equal(["count_legacy"], ourPins);
                    continue;
                }
                if ((bpftoolExit == 0) != (ourExit == 0) || (ourExit == 0 && !bpftoolPins.SequenceEqual(ourPins)))
                {
                    disagreements.Add($"{name}: bpftool exit {bpftoolExit} pins [{string.Join(", ", bpftoolPins)}]; bpfsharp exit {ourExit} pins [{string.Join(", ", ourPins)}] {ourError}");
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            if (!sharedExisted && File.Exists(sharedPin))
            {
                File.Delete(sharedPin);
            }
        }
        Assert.Empty(disagreements);
    }

    private static string[] Pins(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];
}
