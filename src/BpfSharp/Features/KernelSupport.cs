using System.Collections.Concurrent;
using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Features;

/// <summary>
/// What the running kernel supports, found by trying (loading a minimal program, creating a small
/// map) rather than by version numbers, as libbpf and bpftool do. Each answer is probed once per
/// process and cached; every method is thread-safe.
/// </summary>
public static class KernelSupport
{
    private static readonly ConcurrentDictionary<ProgramType, Lazy<FeatureResult>> ProgramTypeResults = new();
    private static readonly ConcurrentDictionary<MapType, Lazy<FeatureResult>> MapTypeResults = new();
    private static readonly ConcurrentDictionary<(ProgramType, HelperFunction), Lazy<FeatureResult>> HelperResults = new();
    private static readonly ConcurrentDictionary<KernelFeature, Lazy<FeatureResult>> KernelResults = new();
    private static readonly ConcurrentDictionary<HookKind, Lazy<FeatureResult>> HookResults = new();

    /// <summary>Every program type worth probing (all but <c>BPF_PROG_TYPE_UNSPEC</c>).</summary>
    public static IReadOnlyList<ProgramType> ProgramTypes { get; } =
        [.. Enum.GetValues<ProgramType>().Where(type => type != ProgramType.Unspec)];

    /// <summary>Every map type worth probing (all but <c>BPF_MAP_TYPE_UNSPEC</c>).</summary>
    public static IReadOnlyList<MapType> MapTypes { get; } =
        [.. Enum.GetValues<MapType>().Where(type => type != MapType.Unspec)];

    /// <summary>Every helper function id worth probing (all but <c>BPF_FUNC_unspec</c>).</summary>
    public static IReadOnlyList<HelperFunction> Helpers { get; } =
        [.. Enum.GetValues<HelperFunction>().Where(helper => helper != HelperFunction.Unspec)];

    /// <summary>Whether programs of <paramref name="type"/> can be loaded.</summary>
    public static FeatureResult ForProgramType(ProgramType type) =>
        Cached(ProgramTypeResults, type, ProgramTypeProbe.Probe);

    /// <summary>Whether maps of <paramref name="type"/> can be created.</summary>
    public static FeatureResult ForMapType(MapType type) =>
        Cached(MapTypeResults, type, MapTypeProbe.Probe);

    /// <summary>Whether programs of <paramref name="type"/> may call <paramref name="helper"/>.</summary>
    public static FeatureResult ForHelper(ProgramType type, HelperFunction helper) =>
        Cached(HelperResults, (type, helper), key => HelperProbe.Probe(key.Item1, key.Item2));

    /// <summary>
    /// Why helper probing cannot answer for <paramref name="type"/> (the type is not loadable
    /// here, or loading it needs a real attach target), or null when <see cref="ForHelper"/> can.
    /// </summary>
    public static FeatureResult? HelperProbeLimitation(ProgramType type) => HelperProbe.Limitation(type);

    /// <summary>Whether the kernel has <paramref name="feature"/>.</summary>
    public static FeatureResult For(KernelFeature feature) =>
        Cached(KernelResults, feature, KernelFeatureProbe.Probe);

    /// <summary>Whether programs can be attached with <paramref name="hook"/>.</summary>
    public static FeatureResult For(HookKind hook) =>
        Cached(HookResults, hook, HookProbe.Probe);

    private static FeatureResult Cached<TKey>(ConcurrentDictionary<TKey, Lazy<FeatureResult>> results, TKey key, Func<TKey, FeatureResult> probe)
        where TKey : notnull
    {
        // Lazy makes concurrent callers for one key share a single probe.
        Lazy<FeatureResult> result = results.GetOrAdd(key, k => new Lazy<FeatureResult>(() => Guarded(probe, k)));
        return result.Value;
    }

    private static FeatureResult Guarded<TKey>(Func<TKey, FeatureResult> probe, TKey key)
    {
        try
        {
            return probe(key);
        }
        catch (Exception error) when (error is BpfException or IOException or UnauthorizedAccessException or FormatException)
        {
            // A probe that cannot decide reports why instead of failing the whole report.
            return FeatureResult.Failed(error.Message);
        }
    }
}
