using BpfSharp.Collections;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Specs;

namespace BpfSharp.Bench.Events;

/// <summary>The events.bpf.o workload loaded through the public loader, its program attached.</summary>
internal sealed class Workload : IDisposable
{
    private readonly Collection _collection;
    private readonly TracepointLink _link;
    private readonly Variable _produced;
    private readonly Variable _dropped;

    private Workload(Collection collection, TracepointLink link, Map buffer)
    {
        _collection = collection;
        _link = link;
        Buffer = buffer;
        _produced = collection.Variable("produced");
        _dropped = collection.Variable("dropped");
    }

    /// <summary>The ring buffer (rb) or perf event array (pb).</summary>
    public Map Buffer { get; }

    public ulong Produced => Volatile.Read(ref _produced.Reference<ulong>());

    public ulong Dropped => Volatile.Read(ref _dropped.Reference<ulong>());

    public static Workload Load(string objectPath, bool ring, uint targetTgid, uint batch)
    {
        CollectionSpec spec = CollectionSpec.Load(objectPath);
        spec.Variable("target_tgid").Set(targetTgid);
        spec.Variable("batch").Set(batch);
        string used = ring ? "emit_ringbuf" : "emit_perfbuf";
        foreach (var (name, program) in spec.Programs)
        {
            program.Autoload = name == used;
        }
        Collection collection = Collection.Load(spec);
        try
        {
            TracepointLink link = TracepointLink.Attach(collection.Program(used), "syscalls", "sys_enter_getppid");
            return new Workload(collection, link, collection.Map(ring ? "rb" : "pb"));
        }
        catch
        {
            collection.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _link.Dispose();
        _collection.Dispose();
    }
}
