using System.Buffers.Binary;

namespace BpfSharp.Btf.Core;

/// <summary>
/// The BTF CO-RE relocations are resolved against: the running kernel (<see cref="Running"/>: vmlinux,
/// then kernel modules' split BTF when vmlinux has no candidate), a BTF file for another kernel
/// (<see cref="FromFile"/>), or specs built in code (<see cref="FromSpec"/>). Candidate lookup goes
/// through an index by essential name (flavor dropped), built once per BTF on first use, so resolving
/// against the kernel's ~130k types costs one hash probe a relocated type.
/// </summary>
public sealed class CoreTarget
{
    private static readonly Lazy<CoreTarget> s_running = new(
        () => new CoreTarget("the running kernel", () => KernelBtf.Vmlinux, RunningModules),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Lazy<BtfSpec> _main;
    private readonly Func<IEnumerable<(string Name, Func<BtfSpec> Load)>>? _modules;
    private readonly Dictionary<BtfSpec, CandidateIndex> _indexes = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    private CoreTarget(string description, Func<BtfSpec> main, Func<IEnumerable<(string, Func<BtfSpec>)>>? modules)
    {
        Description = description;
        _main = new Lazy<BtfSpec>(main, LazyThreadSafetyMode.ExecutionAndPublication);
        _modules = modules;
    }

    /// <summary>
    /// The running kernel: <c>/sys/kernel/btf/vmlinux</c>, and, for a type vmlinux has no candidate
    /// for, each loaded module's BTF from <c>/sys/kernel/btf</c> (parsed on demand as split BTF).
    /// </summary>
    public static CoreTarget Running => s_running.Value;

    /// <summary>What this target is, for messages: "the running kernel", a file path.</summary>
    public string Description { get; }

    /// <summary>The main BTF (vmlinux, or the given file's), loaded on first use.</summary>
    /// <exception cref="BtfException">It cannot be read or parsed.</exception>
    public BtfSpec Btf => _main.Value;

    /// <summary>
    /// A target read from <paramref name="path"/>: a raw BTF blob (a saved <c>/sys/kernel/btf/vmlinux</c>)
    /// or an ELF file with a <c>.BTF</c> section (a vmlinux image), for kernels that do not expose their BTF.
    /// Module BTF is not searched.
    /// </summary>
    /// <exception cref="BtfException">The file cannot be read, or holds no valid BTF.</exception>
    public static CoreTarget FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new CoreTarget(path, () => LoadFile(path), null);
    }

    /// <summary>A target made of <paramref name="btf"/> and, optionally, modules whose split BTF sits on top of it.</summary>
    /// <param name="btf">The main BTF.</param>
    /// <param name="modules">Module name and split BTF (its <see cref="BtfSpec.Base"/> must be <paramref name="btf"/>), searched in order when <paramref name="btf"/> has no candidate.</param>
    /// <param name="description">What the target is, for messages.</param>
    public static CoreTarget FromSpec(BtfSpec btf, IEnumerable<KeyValuePair<string, BtfSpec>>? modules = null, string description = "the given BTF")
    {
        ArgumentNullException.ThrowIfNull(btf);
        List<KeyValuePair<string, BtfSpec>> list = modules?.ToList() ?? [];
        foreach ((string name, BtfSpec module) in list)
        {
            if (!ReferenceEquals(module.Base, btf))
            {
                throw new ArgumentException($"module '{name}' BTF is not split BTF on top of the main BTF", nameof(modules));
            }
        }
        return new CoreTarget(description, () => btf, list.Count == 0 ? null : () => list.Select(m => (m.Key, (Func<BtfSpec>)(() => m.Value))));
    }

    private static IEnumerable<(string, Func<BtfSpec>)> RunningModules() =>
        KernelBtf.ModuleNames().Select(name => (name, (Func<BtfSpec>)(() => KernelBtf.Module(name))));

    private static BtfSpec LoadFile(string path)
    {
        try
        {
            return BtfSpec.Load(path);
        }
        catch (BtfException e)
        {
            throw new BtfException($"cannot use {path} as the CO-RE target: {e.Message}", e);
        }
    }

    /// <summary>
    /// The candidates for <paramref name="local"/>: target types of a compatible kind whose essential
    /// name equals the local type's, from the main BTF; only when it has none, from modules in order.
    /// </summary>
    internal IReadOnlyList<CoreCandidate> FindCandidates(BtfType local)
    {
        var found = new List<CoreCandidate>();
        ReadOnlySpan<byte> name = CoreTypeRules.EssentialName(local.NameBytes);
        BtfSpec main = Btf;
        IndexOf(main).Collect(name, local.Kind, "vmlinux", found);
        if (found.Count > 0 || _modules is null)
        {
            return found;
        }
        foreach ((string module, Func<BtfSpec> load) in _modules())
        {
            BtfSpec spec;
            try
            {
                spec = load();
            }
            catch (BtfException)
            {
                // A module unloaded between listing and reading, or without usable BTF: it holds no candidates.
                continue;
            }
            IndexOf(spec).Collect(name, local.Kind, module, found);
        }
        return found;
    }

    private CandidateIndex IndexOf(BtfSpec spec)
    {
        lock (_lock)
        {
            if (!_indexes.TryGetValue(spec, out CandidateIndex? index))
            {
                index = new CandidateIndex(spec);
                _indexes[spec] = index;
            }
            return index;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    /// <summary>Hash chains over the essential names of one spec's own named types.</summary>
    private sealed class CandidateIndex
    {
        private readonly BtfSpec _spec;
        private readonly int[] _buckets;
        private readonly int[] _next;

        internal CandidateIndex(BtfSpec spec)
        {
            _spec = spec;
            int count = spec.OwnTypeCount;
            int bucketCount = (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(count, 1)));
            _buckets = new int[bucketCount];
            _buckets.AsSpan().Fill(-1);
            _next = new int[count];
            // From the highest id down, so that every chain lists the lowest id first. Names are read
            // straight from the records: this loop runs over every type of the kernel's BTF.
            ReadOnlySpan<byte> data = spec.Data;
            for (int local = count - 1; local >= 0; local--)
            {
                uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(spec.OffsetOf(spec.FirstTypeId + local), 4));
                ReadOnlySpan<byte> name = nameOffset == 0 ? default : spec.GetStringBytes(nameOffset);
                if (name.IsEmpty)
                {
                    _next[local] = -1;
                    continue;
                }
                int bucket = Hash(CoreTypeRules.EssentialName(name)) & (bucketCount - 1);
                _next[local] = _buckets[bucket];
                _buckets[bucket] = local;
            }
        }

        internal void Collect(ReadOnlySpan<byte> essentialName, BtfKind kind, string source, List<CoreCandidate> found)
        {
            for (int local = _buckets[Hash(essentialName) & (_buckets.Length - 1)]; local >= 0; local = _next[local])
            {
                BtfType type = _spec[_spec.FirstTypeId + local];
                if (CoreTypeRules.KindsCompatible(kind, type.Kind) && CoreTypeRules.EssentialName(type.NameBytes).SequenceEqual(essentialName))
                {
                    found.Add(new CoreCandidate(type, source));
                }
            }
        }

        private static int Hash(ReadOnlySpan<byte> name)
        {
            uint hash = 2166136261;
            foreach (byte b in name)
            {
                hash = (hash ^ b) * 16777619;
            }
            return (int)(hash ^ (hash >> 15));
        }
    }
}

/// <summary>A target type that might correspond to a local type, and where it comes from.</summary>
/// <param name="Type">The target type.</param>
/// <param name="Source"><c>vmlinux</c> or the module name.</param>
internal readonly record struct CoreCandidate(BtfType Type, string Source);
