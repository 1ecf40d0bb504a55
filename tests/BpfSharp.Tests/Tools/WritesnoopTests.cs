using System.Text.Json;
using BpfSharp.Cli.Tools;
using BpfSharp.Cli.Tools.Writesnoop;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Tools;

public sealed class WritesnoopTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory($"writesnoop-{Environment.ProcessId}-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void SeesTheBytesWrittenToAKnownFileWithItsNameInodeAndDescriptor()
    {
        string path = Path.Combine(_directory, $"known-{Guid.NewGuid():N}.dat");
        using var tool = ToolProcess.Start("writesnoop", "--pid", Environment.ProcessId.ToString(), "--json");
        int fd;
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write))
        {
            fd = (int)handle.DangerousGetHandle();
            long offset = 0;
            foreach (int size in new[] { 1000, 2000, 3000 })
            {
                RandomAccess.Write(handle, new byte[size], offset); // one pwrite64 each
                offset += size;
            }
        }
        FileIdentity identity = FileIdentity.Of(path);
        List<JsonElement> writes = WaitForEvents(tool, path, 3);
        (int exit, _, string error) = tool.Stop();

        Assert.Equal(0, exit);
        Assert.Contains("using tracepoints", error);
        Assert.Equal([1000L, 2000L, 3000L], writes.Select(w => w.GetProperty("bytes").GetInt64()));
        Assert.Equal([1000L, 2000L, 3000L], writes.Select(w => w.GetProperty("requested").GetInt64()));
        Assert.All(writes, w =>
        {
            Assert.Equal(path, w.GetProperty("path").GetString());
            Assert.Equal(identity.Inode, w.GetProperty("inode").GetUInt64());
            Assert.Equal($"{identity.DeviceMajor}:{identity.DeviceMinor}", w.GetProperty("dev").GetString());
            Assert.Equal(fd, w.GetProperty("fd").GetInt32());
            Assert.Equal(Environment.ProcessId, w.GetProperty("pid").GetInt32());
            Assert.Equal("reg", w.GetProperty("type").GetString());
            Assert.Equal("pwrite64", w.GetProperty("op").GetString());
            Assert.False(w.GetProperty("truncated").GetBoolean());
        });
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void TopSumsBytesAndWritesPerFileInTheKernel()
    {
        string big = Path.Combine(_directory, "big.dat"), small = Path.Combine(_directory, "small.dat");
        using var tool = ToolProcess.Start("writesnoop", "--pid", Environment.ProcessId.ToString(), "--path-prefix", _directory, "--top", "5", "--json");
        WriteTimes(big, 5, 700);
        WriteTimes(small, 2, 100);
        (int exit, string output, string error) = tool.Stop();

        Assert.True(exit == 0, error);
        List<JsonElement> rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([big, small], rows.Select(r => r.GetProperty("path").GetString()));
        Assert.Equal(3500UL, rows[0].GetProperty("bytes").GetUInt64());
        Assert.Equal(5UL, rows[0].GetProperty("writes").GetUInt64());
        Assert.Equal(200UL, rows[1].GetProperty("bytes").GetUInt64());
        Assert.Equal(2UL, rows[1].GetProperty("writes").GetUInt64());
        Assert.Equal(FileIdentity.Of(big).Inode, rows[0].GetProperty("inode").GetUInt64());
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void FileFilterKeepsOnlyThatFileAndTheTableShowsIt()
    {
        string wanted = Path.Combine(_directory, "wanted.log"), other = Path.Combine(_directory, "other.log");
        File.WriteAllText(wanted, "");
        using var tool = ToolProcess.Start("writesnoop", "--file", wanted, "--min-bytes", "10");
        WriteTimes(other, 2, 50);
        WriteTimes(wanted, 1, 5);   // below --min-bytes
        WriteTimes(wanted, 3, 64);
        WaitUntil(() => tool.Output.Split('\n').Count(l => l.EndsWith(wanted, StringComparison.Ordinal)) >= 3);
        (int exit, string output, _) = tool.Stop();

        Assert.Equal(0, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("TIME", lines[0]);
        Assert.Equal(3, lines.Count(l => l.EndsWith(wanted, StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains(other, StringComparison.Ordinal));
        Assert.All(lines.Skip(1), l => Assert.Matches(@"\s64\s+64\s+reg\s", l));
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void AutomaticChoiceFallsBackFromFentryAndKprobeToTracepointsAndSaysWhy()
    {
        using var tool = ToolProcess.Start("writesnoop", "--pid", Environment.ProcessId.ToString());
        (int exit, _, string error) = tool.Stop();

        Assert.Equal(0, exit);
        string[] lines = error.Split('\n');
        string fentry = Assert.Single(lines, l => l.Contains("fexit on vfs_write is not available", StringComparison.Ordinal));
        Assert.Contains("EPERM", fentry);
        Assert.Contains("trying the next way in", fentry);
        Assert.Single(lines, l => l.Contains("kprobe/kretprobe on vfs_write is not available", StringComparison.Ordinal) && l.Contains("CONFIG_KPROBES", StringComparison.Ordinal));
        Assert.Contains("writesnoop: using tracepoints syscalls:sys_enter/exit_write", error);
    }

    [Trait("Category", "Kernel")]
    [KernelTheory]
    [InlineData("fentry", "EPERM")]
    [InlineData("kprobe", "kprobes are not available")]
    public void AForcedModeTheKernelRefusesIsAClearError(string mode, string reason)
    {
        (int exitCode, string error) = RunToEnd("writesnoop", "--mode", mode, "--duration", "1");
        Assert.Equal(1, exitCode);
        Assert.StartsWith($"bpfsharp: error: writesnoop --mode {mode}: ", error);
        Assert.Contains(reason, error);
        Assert.DoesNotContain("trying the next way in", error);
    }

    [Fact]
    public void AutoTriesFentryThenKprobeThenTracepointsAndEachModeLoadsOnlyItsPrograms()
    {
        Assert.Equal([WriteHook.Fentry, WriteHook.Kprobe, WriteHook.Tracepoint], WritesnoopCommand.Candidates(WriteHook.Auto));
        Assert.Equal([WriteHook.Kprobe], WritesnoopCommand.Candidates(WriteHook.Kprobe));
        WritesnoopBpf.Specification spec = WritesnoopCommand.Configure(WritesnoopBpf.Open(), new WritesnoopOptions { Pid = 42, Name = "dd", MinBytes = 7, Top = 3 }, new FileIdentity(8, 1, 99), WriteHook.Kprobe);
        Assert.Equal(["vfs_write_kprobe", "vfs_write_kretprobe"], spec.Collection.Programs.Where(p => p.Value.Autoload).Select(p => p.Key).Order());
        Assert.Equal(42u, spec.Rodata.TargetTgid);
        Assert.Equal((uint)Environment.ProcessId, spec.Rodata.SelfTgid);
        Assert.True(spec.Rodata.FilterComm);
        Assert.Equal("dd", spec.Rodata.TargetComm.ToString());
        Assert.Equal(0, spec.Rodata.TargetComm[2]);
        Assert.Equal(7UL, spec.Rodata.MinBytes);
        Assert.Equal(99UL, spec.Rodata.TargetIno);
        Assert.Equal((8u << 20) | 1u, spec.Rodata.TargetDev);
        Assert.True(spec.Rodata.TopMode);
        Assert.Equal(spec.Maps.Events.MaxEntries / 4, spec.Rodata.WakeupBytes);
        // The same variables as the object names them: the skeleton's offsets are the object's.
        Assert.Equal(42u, spec.Collection.Variable("target_tgid").Get<uint>());
        Assert.Equal(99UL, spec.Collection.Variable("target_ino").Get<ulong>());
        Assert.Equal(1, spec.Collection.Variable("top_mode").Get<byte>());
    }

    [Fact]
    public void RecordsDecodeToPathsTypesAndTruncationMarks()
    {
        var record = new WritesnoopBpf.Event { Pid = 1234, Tid = 1235, Fd = 5, Op = (uint)WriteOperation.Writev, Requested = 300, Ret = -11 };
        "dd"u8.CopyTo(record.Comm);
        record.File.Ino = 77;
        record.File.Dev = (254u << 20) | 3u;
        record.File.Mode = 0x81a4;
        record.File.Depth = 3;
        "log.txt"u8.CopyTo(record.File.Names[0]);
        "log"u8.CopyTo(record.File.Names[1]);
        "var"u8.CopyTo(record.File.Names[2]);

        var output = new StringWriter { NewLine = "\n" };
        using (var printer = new WritePrinter(new WritesnoopOptions(), output))
        {
            printer.OnRecord(record);
        }
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3}  1234    dd                 5  writev          300     -11  reg   254:3   77         /var/log/log.txt\n$", output.ToString());
        Assert.Equal("/var/log/log.txt", FileInfoText.Path(record.File));
        Assert.Equal("254:3", FileInfoText.Device(record.File));
        Assert.Equal("reg", FileInfoText.Type(record.File));
        Assert.False(FileInfoText.Truncated(record.File));

        record.File.Flags = FileInfoText.PathTruncated;
        Assert.Equal("…/var/log/log.txt", FileInfoText.Path(record.File));
        Assert.True(FileInfoText.Truncated(record.File));

        record.File.Mode = 0x1180;
        record.File.Flags = FileInfoText.PathPseudo;
        Assert.Equal("pipe:[77]", FileInfoText.Path(record.File));

        output.GetStringBuilder().Clear();
        using (var printer = new WritePrinter(new WritesnoopOptions { PathPrefix = "/var/" }, output))
        {
            printer.OnRecord(record);
        }
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void FileTotalsDecodeFromTheMapValue()
    {
        var total = new WritesnoopBpf.FileTotal { Bytes = 4096, Writes = 2, Requested = 5000, Pid = 7 };
        "cp"u8.CopyTo(total.Comm);
        total.File.Ino = 12;
        total.File.Dev = (8u << 20) | 1u;
        total.File.Mode = 0x81a4;
        total.File.Depth = 2;
        total.File.Flags = FileInfoText.NameTruncated;
        "b"u8.CopyTo(total.File.Names[0]);
        "a"u8.CopyTo(total.File.Names[1]);

        Assert.Equal(new FileTotal(4096, 2, 5000, 7, "cp", "8:1", 12, "reg", "/a/b", true), FileTotal.From(total));
    }

    [Theory]
    [InlineData(0x8000, 0u, "reg")]
    [InlineData(0xc000, 0u, "sock")]
    [InlineData(0x1000, 0u, "fifo")]
    [InlineData(0x2000, (136u << 20) | 2u, "tty")]
    [InlineData(0x2000, (5u << 20) | 0u, "tty")]
    [InlineData(0x2000, (1u << 20) | 3u, "chr")]
    [InlineData(0x0000, 0u, "anon")]
    public void FileTypesComeFromTheModeAndTerminalMajors(int mode, uint rdev, string type)
    {
        Assert.Equal(type, FileInfoText.TypeOf((ushort)mode, rdev));
    }

    [Fact]
    public void TopTableIsSortedByBytesAndFilteredByPathPrefix()
    {
        var writer = new StringWriter { NewLine = "\n" };
        var printer = new WritePrinter(new WritesnoopOptions { PathPrefix = "/data/" }, writer);
        printer.WriteTop([
            new FileTotal(10, 1, 10, 1, "a", "8:1", 5, "reg", "/data/small", false),
            new FileTotal(900, 3, 900, 2, "b", "8:1", 6, "reg", "/data/big", false),
            new FileTotal(5000, 9, 5000, 3, "c", "8:1", 7, "reg", "/elsewhere", false),
        ], 5);
        string[] lines = writer.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^BYTES\s+WRITES\s+PID\s+COMM\s+TYPE\s+DEV\s+INODE\s+PATH$", lines[0]);
        Assert.EndsWith("/data/big", lines[1]);
        Assert.StartsWith("  900", lines[1]);
        Assert.EndsWith("/data/small", lines[2]);
    }

    private static void WriteTimes(string path, int times, int size)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        for (int i = 0; i < times; i++)
        {
            stream.Write(new byte[size]);
        }
    }

    private static List<JsonElement> WaitForEvents(ToolProcess tool, string path, int count)
    {
        List<JsonElement> Matching() => tool.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("path").GetString() == path).ToList();
        WaitUntil(() => Matching().Count >= count);
        return Matching();
    }

    private static void WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }

    private static (int ExitCode, string Error) RunToEnd(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(ToolProcess.Executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = output.Result;
        return (process.ExitCode, error);
    }
}
