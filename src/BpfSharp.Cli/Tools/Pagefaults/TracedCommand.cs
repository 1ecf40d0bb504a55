using System.Diagnostics;
using BpfSharp.Kernel;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>
/// A command started so that it can be traced from its first instruction: a shell that stops itself
/// (<c>kill -STOP $$</c>) and then execs the command in the same process, so the pid is known, the tracer attaches
/// while it is stopped, and <see cref="Resume"/> lets it run. .NET cannot fork without exec, and this needs nothing
/// but /bin/sh. The command inherits the terminal (standard input, output and error).
/// </summary>
internal sealed class TracedCommand : IDisposable
{
    private readonly Process _process;

    private TracedCommand(Process process)
    {
        _process = process;
    }

    /// <summary>The process id (the shell's, and the command's after the exec).</summary>
    internal int Pid => _process.Id;

    /// <summary>True once the command exited.</summary>
    internal bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="command"/> stopped; returns once it is stopped.</summary>
    /// <exception cref="ToolException">The command cannot start, or did not stop.</exception>
    internal static TracedCommand StartStopped(IReadOnlyList<string> command)
    {
        if (command.Count == 0)
        {
            throw new ToolException("no command to trace: give one after --, as in: bpfsharp pagefaults -- ./app args");
        }
        string program = command[0];
        if (!program.Contains('/') && FindInPath(program) is null)
        {
            throw new ToolException($"cannot run '{program}': not found in PATH");
        }
        if (program.Contains('/') && !File.Exists(program))
        {
            throw new ToolException($"cannot run '{program}': no such file");
        }
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // $0 is the program, "$@" its arguments: exec keeps the pid the tracer filters on.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("kill -STOP $$; exec \"$0\" \"$@\"");
        foreach (string argument in command)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ToolException("cannot start /bin/sh to run the command");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ToolException($"cannot start /bin/sh to run the command: {e.Message}");
        }
        var traced = new TracedCommand(process);
        if (!ProcessControl.WaitUntilStopped(process.Id, TimeSpan.FromSeconds(10)))
        {
            traced.Dispose();
            throw new ToolException($"the command '{program}' did not reach its stopped start (the shell exited or hung)");
        }
        return traced;
    }

    /// <summary>Lets the stopped command run (SIGCONT): the shell execs it.</summary>
    internal void Resume() => ProcessControl.Continue(_process.Id);

    /// <summary>Waits up to <paramref name="milliseconds"/> for the command to exit.</summary>
    internal bool WaitForExit(int milliseconds) => _process.WaitForExit(milliseconds);

    /// <summary>The command's exit status (128 + signal number when a signal ended it).</summary>
    internal int ExitCode => _process.ExitCode;

    /// <summary>Kills a command still running (the tool was interrupted) and releases the process handle.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // it exited meanwhile
        }
        _process.Dispose();
    }

    private static string? FindInPath(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
