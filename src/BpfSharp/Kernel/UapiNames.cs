using System.Collections.Frozen;
using System.Text;
using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Kernel;

/// <summary>
/// The kernel's own lower-case names for UAPI values, as bpftool and libbpf print them:
/// <c>ProgramType.SocketFilter</c> is <c>socket_filter</c>, <c>MapType.PerCpuHash</c> is
/// <c>percpu_hash</c>, <c>HelperFunction.MapLookupElem</c> is <c>bpf_map_lookup_elem</c>.
/// </summary>
public static class UapiNames
{
    // The C# names split some words the UAPI writes as one (PERCPU, RINGBUF, SOCKMAP, ...);
    // these rejoin them. Kept per enum because the same split is right elsewhere: the helper
    // bpf_per_cpu_ptr and bpf_sock_hash_update keep their underscores.
    private static readonly (string Split, string Joined)[] TypeWords =
    [
        ("per_cpu", "percpu"), ("dev_map", "devmap"), ("sock_map", "sockmap"), ("cpu_map", "cpumap"),
        ("xsk_map", "xskmap"), ("sock_hash", "sockhash"), ("sock_array", "sockarray"),
        ("ring_buf", "ringbuf"), ("seg6_local", "seg6local"),
    ];

    private static readonly (string Split, string Joined)[] AttachWords =
    [
        ("send_msg", "sendmsg"), ("recv_msg", "recvmsg"), ("get_sockopt", "getsockopt"), ("set_sockopt", "setsockopt"),
        ("get_peer_name", "getpeername"), ("get_sock_name", "getsockname"), ("dev_map", "devmap"), ("cpu_map", "cpumap"),
    ];

    private static readonly (string Split, string Joined)[] HelperWords =
    [
        ("ring_buf", "ringbuf"), ("lookup_per_cpu_elem", "lookup_percpu_elem"), ("set_sockopt", "setsockopt"), ("get_sockopt", "getsockopt"),
    ];

    private static readonly FrozenDictionary<ProgramType, string> ProgramTypeNames = Build<ProgramType>(TypeWords, "");
    private static readonly FrozenDictionary<MapType, string> MapTypeNames = Build<MapType>(TypeWords, "");
    private static readonly FrozenDictionary<AttachType, string> AttachTypeNames = Build<AttachType>(AttachWords, "");
    private static readonly FrozenDictionary<HelperFunction, string> HelperNames = Build<HelperFunction>(HelperWords, "bpf_");

    /// <summary>The program type's UAPI name without prefix (<c>BPF_PROG_TYPE_XDP</c> is <c>xdp</c>).</summary>
    public static string Name(ProgramType type) => ProgramTypeNames.TryGetValue(type, out string? name) ? name : $"prog_type_{(uint)type}";

    /// <summary>The map type's UAPI name without prefix (<c>BPF_MAP_TYPE_RINGBUF</c> is <c>ringbuf</c>).</summary>
    public static string Name(MapType type) => MapTypeNames.TryGetValue(type, out string? name) ? name : $"map_type_{(uint)type}";

    /// <summary>The attach type's UAPI name without prefix (<c>BPF_CGROUP_INET4_CONNECT</c> is <c>cgroup_inet4_connect</c>).</summary>
    public static string Name(AttachType type) => AttachTypeNames.TryGetValue(type, out string? name) ? name : $"attach_type_{(uint)type}";

    /// <summary>The helper's C name (<c>BPF_FUNC_map_lookup_elem</c> is <c>bpf_map_lookup_elem</c>).</summary>
    public static string Name(HelperFunction helper) => HelperNames.TryGetValue(helper, out string? name) ? name : $"helper_{(int)helper}";

    /// <summary>The program type with UAPI name <paramref name="name"/> (<c>xdp</c>, <c>socket_filter</c>; case-insensitive), or null.</summary>
    public static ProgramType? ParseProgramType(string name) => Find(ProgramTypeNames, name);

    /// <summary>The map type with UAPI name <paramref name="name"/> (<c>hash</c>, <c>ringbuf</c>; case-insensitive), or null.</summary>
    public static MapType? ParseMapType(string name) => Find(MapTypeNames, name);

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

    private static FrozenDictionary<TEnum, string> Build<TEnum>((string Split, string Joined)[] words, string prefix) where TEnum : struct, Enum
    {
        var names = new Dictionary<TEnum, string>();
        foreach (TEnum value in Enum.GetValues<TEnum>())
        {
            string name = Snake(value.ToString());
            foreach ((string split, string joined) in words)
            {
                name = name.Replace(split, joined, StringComparison.Ordinal);
            }
            names.TryAdd(value, prefix + name);
        }
        return names.ToFrozenDictionary();
    }

    private static string Snake(string pascal)
    {
        var text = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
            {
                text.Append('_');
            }
            text.Append(char.ToLowerInvariant(pascal[i]));
        }
        return text.ToString();
    }
}
