using System.Diagnostics;
using System.Text.Json;
using BpfSharp.Cli.Tools.Execsnoop;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Tools;

/// <summary>bpfsharp execsnoop against execs the test makes: arguments, parent, result, truncation and every filter.</summary>
[Trait("Category", "Kernel")]
public class ExecsnoopTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [KernelFact]
    public void SeesEchoWithItsArgumentsParentAndResult()
    {
        string marker = $"marker-{Environment.ProcessId}-{LinkTestSupport.Suffix()}";
        using var tool = ToolProcess.Start("execsnoop", "--json");
        DateTime started = DateTime.Now;
        int pid = RunToEnd("/bin/echo", "a", "b", "c", marker);

        JsonElement e = WaitForEvent(tool, ev => ev.GetProperty("pid").GetInt32() == pid);
        tool.Stop();
        Assert.Equal(["/bin/echo", "a", "b", "c", marker], Args(e));
        Assert.Equal(Environment.ProcessId, e.GetProperty("ppid").GetInt32());
        Assert.Equal(0, e.GetProperty("ret").GetInt32());
        Assert.Equal("echo", e.GetProperty("comm").GetString());
        Assert.Equal(0u, e.GetProperty("uid").GetUInt32());
        Assert.False(e.GetProperty("truncated").GetBoolean());
        // The kernel's timestamp of the exec, converted to the wall clock: between the test's start and now.
        DateTime time = DateTime.Parse(e.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(time, started.AddSeconds(-1), DateTime.Now.AddSeconds(1));
    }

    [KernelFact]
    public void TableShowsTheExecAsARow()
    {
        string marker = $"row-{LinkTestSupport.Suffix()}";
        using var tool = ToolProcess.Start("execsnoop");
        int pid = RunToEnd("/bin/echo", marker);
        Assert.True(LinkTestSupport.WaitUntil(() => tool.Output.Contains(marker, StringComparison.Ordinal), Timeout), tool.Error);
        (int code, string output, _) = tool.Stop();
        Assert.Equal(0, code);
        string[] lines = output.Split('\n');
        Assert.StartsWith("TIME", lines[0], StringComparison.Ordinal);
        string row = lines.Single(l => l.EndsWith($"/bin/echo {marker}", StringComparison.Ordinal));
        string[] cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("echo", cells[1]);
        Assert.Equal(pid.ToString(), cells[2]);
        Assert.Equal(Environment.ProcessId.ToString(), cells[3]);
        Assert.Equal("0", cells[5]);
    }

    [KernelFact]
    public void FailedExecShowsOnlyWithFailsAndReturnsEnoent()
    {
        string missing = $"/nonexistent-{Environment.ProcessId}-{LinkTestSupport.Suffix()}/program";
        string marker = $"after-{LinkTestSupport.Suffix()}";
        using var successes = ToolProcess.Start("execsnoop", "--json");
        using var all = ToolProcess.Start("execsnoop", "--json", "-x");
        // sh execs a path with a slash directly (in a child), and fails with ENOENT; the echo after it tells both tools have seen that far.
        LinkTestSupport.Run("/bin/sh", "-c", $"{missing} a1; /bin/echo {marker}");

        WaitForEvent(successes, ev => Args(ev).Contains(marker));
        JsonElement failed = WaitForEvent(all, ev => Args(ev).FirstOrDefault() == missing);
        WaitForEvent(all, ev => Args(ev).Contains(marker));
        (_, string successOutput, _) = successes.Stop();
        all.Stop();
        Assert.Equal(-2, failed.GetProperty("ret").GetInt32());
        Assert.Equal([missing, "a1"], Args(failed));
        Assert.DoesNotContain(Events(successOutput), ev => Args(ev).FirstOrDefault() == missing);
        Assert.All(Events(successOutput), ev => Assert.True(ev.GetProperty("ret").GetInt32() >= 0));
    }

    [KernelFact]
    public void NameFilterKeepsOnlyMatchingCommands()
    {
        string marker = $"name-{LinkTestSupport.Suffix()}";
        using var tool = ToolProcess.Start("execsnoop", "--json", "--name", "printf");
        RunToEnd("/bin/echo", marker);
        RunToEnd("/usr/bin/printf", marker);
        WaitForEvent(tool, ev => Args(ev).Contains(marker));
        (_, string output, _) = tool.Stop();
        List<JsonElement> events = Events(output);
        Assert.Contains(events, ev => ev.GetProperty("comm").GetString() == "printf" && Args(ev).Contains(marker));
        Assert.DoesNotContain(events, ev => ev.GetProperty("comm").GetString() == "echo");
        Assert.All(events, ev => Assert.Contains("printf", ev.GetProperty("comm").GetString()!, StringComparison.Ordinal));
    }

    [KernelFact]
    public void PidFilterKeepsOnlyThatProcess()
    {
        string marker = $"pid-{LinkTestSupport.Suffix()}";
        // A shell that waits for a line, then execs echo: the exec keeps the shell's pid, known before the tool starts.
        using Process shell = StartWaiting("/bin/sh", "-c", $"read line; exec /bin/echo {marker}");
        using var tool = ToolProcess.Start("execsnoop", "--json", "--pid", shell.Id.ToString());
        RunToEnd("/bin/echo", marker, "other");
        shell.StandardInput.WriteLine("go");
        Assert.True(shell.WaitForExit(Timeout));

        JsonElement e = WaitForEvent(tool, ev => Args(ev).Contains(marker));
        (_, string output, _) = tool.Stop();
        Assert.Equal(shell.Id, e.GetProperty("pid").GetInt32());
        Assert.Equal(["/bin/echo", marker], Args(e));
        Assert.All(Events(output), ev => Assert.Equal(shell.Id, ev.GetProperty("pid").GetInt32()));
    }

    [KernelFact]
    public void PpidFilterKeepsOnlyChildrenOfThatProcess()
    {
        string child = $"child-{LinkTestSupport.Suffix()}", grandchild = $"grandchild-{LinkTestSupport.Suffix()}";
        using var tool = ToolProcess.Start("execsnoop", "--json", "--ppid", Environment.ProcessId.ToString());
        // sh is this process's child; the echo it forks (not the last command, so not exec'd in place) is not.
        LinkTestSupport.MustRun("/bin/sh", "-c", $"/bin/echo {grandchild}; /bin/true");
        RunToEnd("/bin/echo", child);

        JsonElement e = WaitForEvent(tool, ev => Args(ev).Contains(child));
        (_, string output, _) = tool.Stop();
        Assert.Equal(Environment.ProcessId, e.GetProperty("ppid").GetInt32());
        Assert.DoesNotContain(Events(output), ev => Args(ev).SequenceEqual(["/bin/echo", grandchild]));
        Assert.All(Events(output), ev => Assert.Equal(Environment.ProcessId, ev.GetProperty("ppid").GetInt32()));
    }

    [KernelFact]
    public void ExecFromASecondThreadIsReportedUnderTheProcessId()
    {
        string marker = $"thread-{LinkTestSupport.Suffix()}";
        using Process program = StartWaiting(LinkTestSupport.NativeProgram("exec_from_thread"), "/bin/echo", marker);
        using var tool = ToolProcess.Start("execsnoop", "--json", "--pid", program.Id.ToString());
        program.StandardInput.WriteLine("go");
        Assert.True(program.WaitForExit(Timeout));

        JsonElement e = WaitForEvent(tool, ev => Args(ev).Contains(marker));
        tool.Stop();
        Assert.Equal(program.Id, e.GetProperty("pid").GetInt32());
        Assert.NotEqual(program.Id, e.GetProperty("tid").GetInt32()); // the exec'ing thread was not the leader
        Assert.Equal(0, e.GetProperty("ret").GetInt32());
        Assert.Equal(["/bin/echo", marker], Args(e));
    }

    [KernelTheory]
    [InlineData("empty", 0, new string[0], false)]
    [InlineData("badpointer", -14, new string[0], true)]
    [InlineData("badstring", -14, new[] { "/bin/true" }, true)]
    public void OddArgvIsReportedAsItIs(string mode, int ret, string[] args, bool faulted)
    {
        using Process program = StartWaiting(LinkTestSupport.NativeProgram("exec_odd"), mode);
        using var tool = ToolProcess.Start("execsnoop", "--json", "-x", "--pid", program.Id.ToString());
        program.StandardInput.WriteLine("go");
        Assert.True(program.WaitForExit(Timeout));

        JsonElement e = WaitForEvent(tool, ev => ev.GetProperty("pid").GetInt32() == program.Id);
        tool.Stop();
        Assert.Equal(ret, e.GetProperty("ret").GetInt32());
        Assert.Equal(args, Args(e));
        Assert.Equal(faulted, e.GetProperty("args_fault").GetBoolean());
        Assert.Equal(faulted, e.GetProperty("truncated").GetBoolean());
    }

    [KernelFact]
    public void LongArgumentsAndTooManyArgumentsAreMarkedTruncated()
    {
        string marker = $"trunc-{LinkTestSupport.Suffix()}";
        string longArg = marker + new string('x', 200);
        string exact = new string('y', ExecEvent.MaxArgBytes - 1); // fits exactly: not truncated
        string[] many = [marker, .. Enumerable.Range(1, 30).Select(i => i.ToString())];
        using var tool = ToolProcess.Start("execsnoop", "--json");
        RunToEnd("/bin/echo", longArg, exact);
        RunToEnd("/bin/echo", many);

        JsonElement cut = WaitForEvent(tool, ev => Args(ev).ElementAtOrDefault(1)?.StartsWith(marker + "x", StringComparison.Ordinal) == true);
        JsonElement tooMany = WaitForEvent(tool, ev => Args(ev).ElementAtOrDefault(1) == marker);
        tool.Stop();

        Assert.True(cut.GetProperty("truncated").GetBoolean());
        Assert.Equal(longArg[..(ExecEvent.MaxArgBytes - 1)], Args(cut)[1]);
        Assert.Equal(exact, Args(cut)[2]);
        Assert.Equal([1], cut.GetProperty("truncated_args").EnumerateArray().Select(i => i.GetInt32()));
        Assert.False(cut.GetProperty("more_args").GetBoolean());

        Assert.True(tooMany.GetProperty("truncated").GetBoolean());
        Assert.True(tooMany.GetProperty("more_args").GetBoolean());
        Assert.Equal(["/bin/echo", .. many[..(ExecEvent.MaxArgs - 1)]], Args(tooMany));
        Assert.Empty(tooMany.GetProperty("truncated_args").EnumerateArray());
    }

    [KernelFact]
    public void CgroupFilterKeepsOnlyTasksInThatCgroup()
    {
        string inside = $"in-{LinkTestSupport.Suffix()}", outside = $"out-{LinkTestSupport.Suffix()}";
        using var cgroup = new TestCgroup();
        using var tool = ToolProcess.Start("execsnoop", "--json", "--cgroup", cgroup.Path);
        RunToEnd("/bin/echo", outside);
        cgroup.Bash($"/bin/echo {inside}");

        JsonElement e = WaitForEvent(tool, ev => Args(ev).Contains(inside));
        (_, string output, _) = tool.Stop();
        Assert.Equal(["/bin/echo", inside], Args(e));
        Assert.DoesNotContain(outside, output, StringComparison.Ordinal);
    }

    [KernelFact]
    public void UidFilterExcludesOtherUsers()
    {
        string marker = $"uid-{LinkTestSupport.Suffix()}";
        using var tool = ToolProcess.Start("execsnoop", "--json", "--uid", "4242");
        RunToEnd("/bin/echo", marker);
        // setpriv runs echo as uid 4242 (util-linux, on every Debian machine).
        LinkTestSupport.MustRun("setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", "/bin/echo", marker, "as4242");

        JsonElement e = WaitForEvent(tool, ev => Args(ev).Contains("as4242"));
        (_, string output, _) = tool.Stop();
        Assert.Equal(4242u, e.GetProperty("uid").GetUInt32());
        Assert.All(Events(output), ev => Assert.Equal(4242u, ev.GetProperty("uid").GetUInt32()));
    }

    [KernelFact]
    public void AMissingCgroupIsExplained()
    {
        (int code, string _, string error) = ExternalTool.Execute(ToolProcess.Executable, "execsnoop", "--cgroup", "/nonexistent/cgroup");
        Assert.Equal(1, code);
        Assert.Contains("bpfsharp: error: --cgroup /nonexistent/cgroup: no such directory", error, StringComparison.Ordinal);
    }

    [KernelFact]
    public void ADirectoryThatIsNoCgroupIsExplained()
    {
        (int code, string _, string error) = ExternalTool.Execute(ToolProcess.Executable, "execsnoop", "--cgroup", "/tmp");
        Assert.Equal(1, code);
        Assert.Contains("not a cgroup v2 directory", error, StringComparison.Ordinal);
    }

    /// <summary>Runs a program from this process (so its parent is this process) to its end; returns its pid.</summary>
    private static int RunToEnd(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.Id;
    }

    /// <summary>Starts a program that waits for a line on its standard input.</summary>
    private static Process StartWaiting(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return process;
    }

    internal static List<JsonElement> Events(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToList();

    private static string[] Args(JsonElement e) => e.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray();

    private static JsonElement WaitForEvent(ToolProcess tool, Func<JsonElement, bool> match)
    {
        JsonElement found = default;
        bool seen = LinkTestSupport.WaitUntil(() =>
        {
            foreach (JsonElement e in Events(tool.Output))
            {
                AssertHasExecsnoopKeys(e);
                if (match(e))
                {
                    found = e;
                    return true;
                }
            }
            return false;
        }, Timeout);
        Assert.True(seen, $"no matching exec event; output: {tool.Output}; error: {tool.Error}");
        return found;
    }

    private static void AssertHasExecsnoopKeys(JsonElement e)
    {
        foreach (string key in new[] { "time", "pid", "ppid", "uid", "comm", "ret", "args" })
        {
            Assert.True(e.TryGetProperty(key, out _), $"event lacks key '{key}': {e}");
        }
        Assert.Equal(JsonValueKind.Array, e.GetProperty("args").ValueKind);
    }
}
