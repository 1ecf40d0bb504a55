using System.Diagnostics;
using System.Text;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Tools;

/// <summary>
/// A live <c>bpfsharp</c> tool run by a test: started as a child process, awaited until it announces that tracing
/// has started (its standard error line beginning "Tracing"), then stopped with SIGINT as a user's Ctrl-C would,
/// and its output collected. Disposing kills a tool that is still running, so a failed test leaves nothing behind.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    internal static readonly string Executable = Path.Combine(AppContext.BaseDirectory, "bpfsharp");

    private readonly Process _process;
    private readonly StringBuilder _output = new(), _error = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();

    private ToolProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Starts <c>bpfsharp ARGUMENTS</c> and waits until it is tracing.</summary>
    /// <exception cref="InvalidOperationException">It exited or stayed silent for 60 s first; the message holds its standard error.</exception>
    internal static ToolProcess Start(params string[] arguments) => StartProgram(Executable, arguments);

    /// <summary>Starts another tracing program (an example application) the same way.</summary>
    /// <exception cref="InvalidOperationException">It exited or stayed silent for 60 s first; the message holds its standard error.</exception>
    internal static ToolProcess StartProgram(string executable, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var tool = new ToolProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        tool._process.OutputDataReceived += (_, e) => tool.Append(tool._output, e.Data);
        tool._process.ErrorDataReceived += (_, e) =>
        {
            tool.Append(tool._error, e.Data);
            if (e.Data?.StartsWith("Tracing", StringComparison.Ordinal) == true)
            {
                tool._ready.TrySetResult();
            }
        };
        tool._process.Exited += (_, _) => tool._ready.TrySetResult();
        tool._process.Start();
        tool._process.BeginOutputReadLine();
        tool._process.BeginErrorReadLine();
        bool signalled = tool._ready.Task.Wait(TimeSpan.FromSeconds(60));
        if (signalled && tool._process.HasExited)
        {
            // A tool that finishes quickly may exit before its "Tracing" line is handled: drain the readers and look.
            tool._process.WaitForExit();
        }
        if (!signalled || (tool._process.HasExited && !tool.Error.Split('\n').Any(line => line.StartsWith("Tracing", StringComparison.Ordinal))))
        {
            string error = tool.Error;
            tool.Dispose();
            throw new InvalidOperationException($"{Path.GetFileName(executable)} {string.Join(' ', arguments)} did not start tracing: {error}");
        }
        return tool;
    }

    /// <summary>The process id of the tool.</summary>
    internal int Id => _process.Id;

    /// <summary>Standard output so far.</summary>
    internal string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Standard error so far.</summary>
    internal string Error
    {
        get
        {
            lock (_lock)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Sends SIGINT (Ctrl-C), waits for the tool to finish cleanly, and returns its exit code and output.</summary>
    internal (int ExitCode, string Output, string Error) Stop(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            try
            {
                ProcessControl.Signal(_process.Id, SigInt);
            }
            catch (BpfException e) when (e.Errno == Errno.ESRCH)
            {
                // It exited between the check and the signal: nothing to stop.
            }
        }
        return WaitForExit(timeout);
    }

    /// <summary>Waits for the tool to exit by itself (a --duration, or a command it traced ending).</summary>
    internal (int ExitCode, string Output, string Error) WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the tool did not exit in time; its standard error: {Error}");
        }
        _process.WaitForExit(); // drains the asynchronous output readers
        return (_process.ExitCode, Output, Error);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            buffer.Append(line).Append('\n');
        }
    }

    private const int SigInt = 2;
}
