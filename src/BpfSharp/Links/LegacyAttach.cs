namespace BpfSharp.Links;

/// <summary>
/// Forces the attach layer onto its pre-link fallbacks (PERF_EVENT_IOC_SET_BPF for perf events,
/// tracefs <c>uprobe_events</c> for uprobes, BPF_PROG_ATTACH for sockmaps) on a kernel that has the
/// modern mechanisms, so the fallbacks can be tested where they would otherwise never run. The switch
/// flows with the async context of the caller (an <see cref="AsyncLocal{T}"/>): tests running in
/// parallel on other threads keep the normal paths.
/// </summary>
internal static class LegacyAttach
{
    private static readonly AsyncLocal<bool> ForcedHere = new();

    /// <summary>True while a <see cref="Force"/> scope is open in this async context.</summary>
    internal static bool IsForced => ForcedHere.Value;

    /// <summary>Turns the fallbacks on until the returned scope is disposed.</summary>
    internal static IDisposable Force()
    {
        bool previous = ForcedHere.Value;
        ForcedHere.Value = true;
        return new Scope(previous);
    }

    private sealed class Scope(bool previous) : IDisposable
    {
        public void Dispose() => ForcedHere.Value = previous;
    }
}
