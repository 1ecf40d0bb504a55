using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp;

/// <summary>
/// A kernel call made for BPF failed. Carries the operation (a bpf(2) command or another
/// system call), the errno with its symbolic name, and a hint that applies to this failure.
/// </summary>
public class BpfException : Exception
{
    /// <summary>Creates an exception for a failed kernel call.</summary>
    /// <param name="operation">What was called: <c>BPF_MAP_CREATE</c>, <c>perf_event_open</c>, ...</param>
    /// <param name="errno">The error the kernel returned.</param>
    /// <param name="context">What the call was for (<c>creating map 'counts'</c>), or null.</param>
    /// <param name="hint">What the user can do about it, or null.</param>
    public BpfException(string operation, Errno errno, string? context = null, string? hint = null)
        : base(Compose(operation, errno, context, hint))
    {
        Operation = operation;
        Errno = errno;
        Context = context;
        Hint = hint;
    }

    /// <summary>Creates an exception that is not tied to one errno (bad input, missing feature).</summary>
    public BpfException(string message, Exception? inner = null) : base(message, inner)
    {
        Operation = "";
    }

    /// <summary>The call that failed: a bpf(2) command name such as <c>BPF_PROG_LOAD</c>, or a syscall name.</summary>
    public string Operation { get; }

    /// <summary>The bpf(2) command, when the failed call was one.</summary>
    public BpfCommand? Command => Operation.StartsWith("BPF_", StringComparison.Ordinal) ? BpfCommands.Parse(Operation) : null;

    /// <summary>The error number the kernel returned (<see cref="Errno.None"/> when not an errno failure).</summary>
    public Errno Errno { get; }

    /// <summary>The symbolic errno name, such as <c>EPERM</c>.</summary>
    public string ErrnoName => Errno == Errno.None ? "" : Errno.ToString();

    /// <summary>What the call was for, when known.</summary>
    public string? Context { get; }

    /// <summary>Advice for this failure, when there is any.</summary>
    public string? Hint { get; }

    /// <summary>The message of a failed call: context, operation, errno and its text, then the hint.</summary>
    private protected static string Compose(string operation, Errno errno, string? context, string? hint)
    {
        string text = $"{operation} failed: {errno} ({Marshal.GetPInvokeErrorMessage((int)errno)})";
        if (!string.IsNullOrEmpty(context))
        {
            text = $"{context}: {text}";
        }
        return string.IsNullOrEmpty(hint) ? text : $"{text}. {hint}";
    }
}
