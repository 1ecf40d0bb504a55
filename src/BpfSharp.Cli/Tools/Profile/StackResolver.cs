using BpfSharp.Maps;
using BpfSharp.Symbols;

using StackKey = BpfSharp.Cli.Tools.ProfileBpf.StackKey;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>
/// Turns the profiler's counts (process, kernel and user stack ids) into named frames. Kernel addresses resolve
/// through /proc/kallsyms; user addresses through each process's mappings, read on first sight of the process under
/// a name (<see cref="Observe"/>) and again at the end if it is still alive, so a process that exited meanwhile still
/// resolves from the snapshots taken while it ran, and one never seen alive gets <c>[unknown]</c> frames but still
/// counts. A process seen under two names (a shell that exec'd the command, threads named apart) keeps a snapshot
/// per name: looking at one name never throws away the mappings read for the other.
/// </summary>
internal sealed class StackResolver(StackTraceMap stacks)
{
    /// <summary>-EFAULT from bpf_get_stackid: no stack of that kind (user code has no kernel stack, kernel threads no user stack).</summary>
    internal const int NoStack = -14;

    private readonly ModuleSymbolCache _modules = new();
    private readonly Dictionary<(uint Pid, string Comm), ProcessSymbols?> _processes = [];
    private readonly Dictionary<int, ulong[]> _stacks = [];
    private KernelSymbols? _kernel;

    /// <summary>Snapshots the mappings of a process seen for the first time under <paramref name="comm"/> (a new name: it exec'd, or another thread).</summary>
    internal void Observe(uint pid, string comm)
    {
        if (pid == 0 || _processes.ContainsKey((pid, comm)))
        {
            return;
        }
        _processes[(pid, comm)] = TryRead(pid);
    }

    /// <summary>
    /// Re-reads the mappings of the processes still alive (libraries loaded since the first look count too); the
    /// snapshots of a process that exited stay as they were.
    /// </summary>
    internal void Refresh()
    {
        foreach (IGrouping<uint, (uint Pid, string Comm)> process in _processes.Keys.GroupBy(k => k.Pid).ToList())
        {
            if (TryRead(process.Key) is ProcessSymbols fresh)
            {
                foreach ((uint Pid, string Comm) key in process)
                {
                    _processes[key] = fresh;
                }
            }
        }
    }

    /// <summary>The mappings user addresses of <paramref name="pid"/> under <paramref name="comm"/> resolve against; null when never read.</summary>
    internal ProcessSymbols? SymbolsOf(uint pid, string comm) => _processes.GetValueOrDefault((pid, comm));

    private ProcessSymbols? TryRead(uint pid)
    {
        try
        {
            return ProcessSymbols.Read((int)pid, _modules);
        }
        catch (BpfException)
        {
            return null; // exited already
        }
    }

    /// <summary>The named frames, outer to inner, of one counted sample key (profile.bpf.c's <c>struct stack_key</c>).</summary>
    internal ProfileStack Resolve(in StackKey key, ulong count)
    {
        string comm = key.Comm.ToString();
        var frames = new List<StackFrame>();
        ProcessSymbols? symbols = SymbolsOf(key.Pid, comm);
        AppendStack(frames, key.UserStackId, kernel: false, address => symbols?.Resolve(address).ToString() ?? "[unknown]");
        AppendStack(frames, key.KernelStackId, kernel: true, address =>
            (_kernel ??= KernelSymbols.Current).TryResolve(address, out KernelSymbol symbol, out _) ? symbol.Name : "[unknown]");
        return new ProfileStack(key.Pid, comm, count, frames);
    }

    /// <summary>Appends a stack's frames outermost first, or a marker when bpf_get_stackid failed for a reason other than "no such stack".</summary>
    private void AppendStack(List<StackFrame> frames, int stackId, bool kernel, Func<ulong, string> name)
    {
        if (stackId >= 0)
        {
            ulong[] addresses = Stack(stackId);
            for (int i = addresses.Length - 1; i >= 0; i--)
            {
                // Outer frames hold return addresses, which point after the call: look up the call itself.
                frames.Add(new StackFrame(name(i == 0 ? addresses[i] : addresses[i] - 1), kernel));
            }
        }
        else if (stackId != NoStack && stackId != -1)
        {
            frames.Add(new StackFrame(kernel ? "[missed kernel stack]" : "[missed user stack]", kernel));
        }
    }

    private ulong[] Stack(int id)
    {
        if (!_stacks.TryGetValue(id, out ulong[]? addresses))
        {
            addresses = stacks.TryReadStack((uint)id, out ulong[] read) ? read : [];
            _stacks[id] = addresses;
        }
        return addresses;
    }
}
