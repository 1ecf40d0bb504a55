using System.Diagnostics;
using BpfSharp.Btf;

namespace BpfSharp.Tests.Cli;

/// <summary><c>bpfsharp btf dump</c> and <c>bpfsharp btf list</c>, run as the real tool.</summary>
public sealed class BtfCommandTests
{
    private static (int ExitCode, string Output, string Error) RunTool(string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"{Path.Combine(AppContext.BaseDirectory, "bpfsharp.dll")} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"bpfsharp {arguments} did not finish");
        return (process.ExitCode, output, error.Result);
    }

    [Fact]
    public void Dump_raw_of_a_BTF_file_lists_its_types()
    {
        string file = Path.Combine(Path.GetTempPath(), $"bpfsharp-{Environment.ProcessId}.btf");
        try
        {
            File.WriteAllBytes(file, Btf.BtfTestData.Btf("btf_kinds"));
            (int code, string output, _) = RunTool($"btf dump {file}");
            Assert.Equal(0, code);
            Assert.Equal(Btf.BtfTestData.Run("bpftool", $"btf dump file {TestPrograms.Path("btf_kinds")}"), output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Dump_c_writes_the_vmlinux_header()
    {
        (int code, string output, _) = RunTool("btf dump --format c");
        Assert.Equal(0, code);
        Assert.StartsWith("#ifndef __VMLINUX_H__", output);
        Assert.Contains("struct task_struct {", output);
        Assert.EndsWith("#endif /* __VMLINUX_H__ */\n", output);
    }

    [Fact]
    public void Bad_input_gets_a_clear_error()
    {
        (int code, _, string error) = RunTool($"btf dump {TestPrograms.Path("btf_kinds")}");
        Assert.Equal(1, code);
        Assert.Contains("is an ELF object, not raw BTF", error);
        (code, _, error) = RunTool("btf dump id zero");
        Assert.Equal(1, code);
        Assert.Contains("not a BTF object id", error);
        (code, _, error) = RunTool("btf dump /nonexistent/file.btf");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/file.btf", error);
    }

    [KernelFact]
    [Trait("Category", "Kernel")]
    public void List_shows_vmlinux_and_dump_by_id_reads_it()
    {
        (int code, string output, _) = RunTool("btf list");
        Assert.Equal(0, code);
        string line = output.Split('\n').Single(l => l.Contains("name vmlinux"));
        Assert.EndsWith("kernel", line.Trim());
        string id = line.Split(':')[0];
        (code, output, _) = RunTool($"btf dump id {id}");
        Assert.Equal(0, code);
        Assert.Equal(KernelBtf.Vmlinux.OwnTypeCount, output.Split('\n').Count(l => l.StartsWith('[')));
    }
}
