using System.Globalization;

namespace BpfSharp.Kernel;

/// <summary>The scheduler state of a process, as the third field of /proc/PID/stat gives it.</summary>
public enum ProcessRunState
{
    /// <summary>Running or runnable (R).</summary>
    Running,
    /// <summary>Sleeping, interruptibly (S) or not (D), or idle (I).</summary>
    Sleeping,
    /// <summary>Stopped by a signal (T) or by a tracer (t).</summary>
    Stopped,
    /// <summary>Exited, not yet reaped by its parent (Z), or dead (X).</summary>
    Exited,
}

/// <summary>
/// The few process controls a tracer needs around a workload: send a signal (SIGCONT to release a process
/// started stopped), read whether a process is stopped or gone, and wait until it stops.
/// </summary>
public static class ProcessControl
{
    /// <summary>SIGKILL.</summary>
    public const int SigKill = 9;
    /// <summary>SIGTERM.</summary>
    public const int SigTerm = 15;
    /// <summary>SIGCONT: resumes a stopped process.</summary>
    public const int SigCont = 18;
    /// <summary>SIGSTOP: stops a process (cannot be caught).</summary>
    public const int SigStop = 19;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/> (kill(2)).</summary>
    /// <exception cref="BpfException">The process does not exist (ESRCH) or may not be signalled (EPERM).</exception>
    public static void Signal(int pid, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        if (LibC.Kill(pid, signal) != 0)
        {
            throw Errors.FromLastError("kill", $"signal {signal} to process {pid}");
        }
    }

    /// <summary>Resumes a stopped process (SIGCONT).</summary>
    /// <exception cref="BpfException">The process does not exist or may not be signalled.</exception>
    public static void Continue(int pid) => Signal(pid, SigCont);

    /// <summary>True when process <paramref name="pid"/> exists and has not exited (a zombie counts as exited).</summary>
    public static bool IsAlive(int pid) => State(pid) is ProcessRunState state && state != ProcessRunState.Exited;

    /// <summary>The state of process <paramref name="pid"/>, or null when there is no such process.</summary>
    public static ProcessRunState? State(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        return ParseStatState(text);
    }

    /// <summary>
    /// The state in the text of a /proc/PID/stat file: <c>PID (COMM) STATE ...</c>, where COMM may itself hold
    /// spaces and parentheses, so the state is the first field after the last ')'.
    /// </summary>
    /// <exception cref="FormatException">The text is not a stat line.</exception>
    public static ProcessRunState ParseStatState(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        int close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 >= stat.Length)
        {
            throw new FormatException($"not a /proc/PID/stat line: '{stat}'");
        }
        return stat[close + 2] switch
        {
            'R' => ProcessRunState.Running,
            'S' or 'D' or 'I' or 'W' or 'P' or 'K' => ProcessRunState.Sleeping,
            'T' or 't' => ProcessRunState.Stopped,
            'Z' or 'X' or 'x' => ProcessRunState.Exited,
            char other => throw new FormatException($"unknown process state '{other}' in /proc/PID/stat"),
        };
    }

    /// <summary>
    /// Waits until process <paramref name="pid"/> is stopped (for example after it sent itself SIGSTOP); returns
    /// false when it exited first or <paramref name="timeout"/> passed.
    /// </summary>
    public static bool WaitUntilStopped(int pid, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        int pause = 1;
        while (true)
        {
            ProcessRunState? state = State(pid);
            if (state == ProcessRunState.Stopped)
            {
                return true;
            }
            if (state is null or ProcessRunState.Exited || Environment.TickCount64 >= deadline || cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            // The state changes within microseconds of the signal; back off gently so a slow start costs little CPU.
            Thread.Sleep(pause);
            pause = Math.Min(pause * 2, 20);
        }
    }
}
