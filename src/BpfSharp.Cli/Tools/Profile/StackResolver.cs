using BpfSharp.Maps;
using BpfSharp.Symbols;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>
/// Turns the profiler's counts (process, kernel and user stack ids) into named frames. Kernel addresses resolve
/// through /proc/kallsyms; user addresses through each process's mappings, read on first sight of the process
/// (<see cref="Observe"/>) and again at the end if it is still alive, so a process that exited meanwhile still
/// resolves from its first snapshot, and one never seen alive gets <c>[unknown]</c> frames but still counts.
/// </summary>
internal sealed class StackResolver(StackTraceMap stacks)
{
    private readonly ModuleSymbolCache _modules = new();
    private readonly Dictionary<uint, (string Comm, ProcessSymbols? Symbols)> _processes = [];
    private readonly Dictionary<int, ulong[]> _stacks = [];
    private KernelSymbols? _kernel;

    /// <summary>Snapshots the mappings of a process seen for the first time (or seen again under a new name: it exec'd).</summary>
    internal void Observe(uint pid, string comm)
    {
        if (pid == 0 || (_processes.TryGetValue(pid, out var known) && known.Comm == comm))
        {
            return;
        }
        _processes[pid] = (comm, TryRead(pid));
    }

    /// <summary>Re-reads the mappings of the processes still alive (libraries loaded since the first look count too).</summary>
    internal void Refresh()
    {
        foreach (uint pid in _processes.Keys.ToList())
        {
            if (TryRead(pid) is ProcessSymbols fresh)
            {
                _processes[pid] = (_processes[pid].Comm, fresh);
            }
        }
    }

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

    /// <summary>The named frames, outer to inner, of one counted sample key.</summary>
    internal ProfileStack Resolve(StackKey key, ulong count)
    {
        string comm = key.CommString();
        var frames = new List<StackFrame>();
        if (key.UserStackId >= 0)
        {
            ProcessSymbols? symbols = _processes.TryGetValue(key.Pid, out var process) ? process.Symbols : null;
            ulong[] addresses = Stack(key.UserStackId);
            for (int i = addresses.Length - 1; i >= 0; i--)
            {
                // Outer frames hold return addresses, which point after the call: look up the call itself.
                ulong address = i == 0 ? addresses[i] : addresses[i] - 1;
                frames.Add(new StackFrame(symbols?.Resolve(address).ToString() ?? "[unknown]", false));
            }
        }
        else if (key.UserStackId != StackKey.NoStack && key.UserStackId != -1)
        {
            frames.Add(new StackFrame("[missed user stack]", false));
        }
        if (key.KernelStackId >= 0)
        {
            _kernel ??= KernelSymbols.Current;
            ulong[] addresses = Stack(key.KernelStackId);
            for (int i = addresses.Length - 1; i >= 0; i--)
            {
                ulong address = i == 0 ? addresses[i] : addresses[i] - 1;
                frames.Add(new StackFrame(_kernel.TryResolve(address, out KernelSymbol symbol, out _) ? symbol.Name : "[unknown]", true));
            }
        }
        else if (key.KernelStackId != StackKey.NoStack && key.KernelStackId != -1)
        {
            frames.Add(new StackFrame("[missed kernel stack]", true));
        }
        return new ProfileStack(key.Pid, comm, count, frames);
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
