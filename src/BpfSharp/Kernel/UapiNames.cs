using System.Collections.Frozen;
using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Kernel;

/// <summary>
/// The kernel's own names for UAPI values, as bpftool and libbpf print them:
/// <c>ProgramType.SocketFilter</c> is <c>socket_filter</c>, <c>MapType.PerCpuHash</c> is
/// <c>percpu_hash</c>, <c>HelperFunction.MapLookupElem</c> is <c>bpf_map_lookup_elem</c>. The tables
/// (UapiNames.g.cs) are generated from linux/bpf.h together with the enums, by eng/generate-uapi.py.
/// </summary>
public static partial class UapiNames
{
    /// <summary>The program type's UAPI name without prefix (<c>BPF_PROG_TYPE_XDP</c> is <c>xdp</c>).</summary>
    public static string Name(ProgramType type) => ProgramTypeNames.TryGetValue(type, out string? name) ? name : $"prog_type_{(uint)type}";

    /// <summary>The map type's UAPI name without prefix (<c>BPF_MAP_TYPE_RINGBUF</c> is <c>ringbuf</c>).</summary>
    public static string Name(MapType type) => MapTypeNames.TryGetValue(type, out string? name) ? name : $"map_type_{(uint)type}";

    /// <summary>The attach type's UAPI name without prefix (<c>BPF_CGROUP_INET4_CONNECT</c> is <c>cgroup_inet4_connect</c>).</summary>
    public static string Name(AttachType type) => AttachTypeNames.TryGetValue(type, out string? name) ? name : $"attach_type_{(uint)type}";

    /// <summary>The link type's UAPI name without prefix (<c>BPF_LINK_TYPE_RAW_TRACEPOINT</c> is <c>raw_tracepoint</c>).</summary>
    public static string Name(LinkType type) => LinkTypeNames.TryGetValue(type, out string? name) ? name : $"link_type_{(uint)type}";

    /// <summary>The helper's C name (<c>BPF_FUNC_map_lookup_elem</c> is <c>bpf_map_lookup_elem</c>).</summary>
    public static string Name(HelperFunction helper) => HelperNames.TryGetValue(helper, out string? name) ? name : $"helper_{(int)helper}";

    /// <summary>The bpf(2) command's UAPI name (<c>BpfCommand.MapCreate</c> is <c>BPF_MAP_CREATE</c>).</summary>
    public static string Name(BpfCommand command) => CommandNames.TryGetValue(command, out string? name) ? name : $"BPF_CMD_{(int)command}";

    /// <summary>The program type with UAPI name <paramref name="name"/> (<c>xdp</c>, <c>socket_filter</c>; case-insensitive), or null.</summary>
    public static ProgramType? ParseProgramType(string name) => Find(ProgramTypeNames, name);

    /// <summary>The map type with UAPI name <paramref name="name"/> (<c>hash</c>, <c>ringbuf</c>; case-insensitive), or null.</summary>
    public static MapType? ParseMapType(string name) => Find(MapTypeNames, name);

    /// <summary>The helper with C name <paramref name="name"/> (<c>bpf_ktime_get_ns</c>), or null.</summary>
    public static HelperFunction? ParseHelper(string name) => ByName.Helpers.TryGetValue(name, out HelperFunction helper) ? helper : null;

    /// <summary>The bpf(2) command with UAPI name <paramref name="name"/> (<c>BPF_PROG_LOAD</c>), or null.</summary>
    public static BpfCommand? ParseCommand(string name) => ByName.Commands.TryGetValue(name, out BpfCommand command) ? command : null;

    private static TEnum? Find<TEnum>(FrozenDictionary<TEnum, string> names, string name) where TEnum : struct, Enum
    {
        foreach ((TEnum value, string candidate) in names)
        {
            if (candidate.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>Name to value, built on first use: in a nested class so that the generated tables (another file of this partial class, whose static initialisation order is not defined relative to this one) exist first.</summary>
    private static class ByName
    {
        internal static readonly FrozenDictionary<string, HelperFunction> Helpers =
            HelperNames.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

        internal static readonly FrozenDictionary<string, BpfCommand> Commands =
            CommandNames.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);
    }
}
