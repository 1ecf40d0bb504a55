using System.Globalization;

namespace BpfSharp.Kernel;

/// <summary>The Linux capabilities BPF work depends on (bit numbers of <c>linux/capability.h</c>).</summary>
public enum Capability
{
    /// <summary>CAP_NET_ADMIN: networking programs (XDP, tc, sockets, cgroup networking).</summary>
    NetAdmin = 12,

    /// <summary>CAP_SYS_ADMIN: everything BPF before CAP_BPF existed, and still some commands.</summary>
    SysAdmin = 21,

    /// <summary>CAP_PERFMON: tracing programs and perf events.</summary>
    Perfmon = 38,

    /// <summary>CAP_BPF: creating maps and loading programs.</summary>
    Bpf = 39,
}

/// <summary>What this process may do with BPF, read from its effective user and capability sets, so that a tool can say why it cannot run before the kernel says EPERM.</summary>
public static class Privileges
{
    /// <summary>True when the process runs with effective user id 0.</summary>
    public static bool IsRoot => LibC.GetEuid() == 0;

    /// <summary>True when <paramref name="capability"/> is in the process's effective set (<c>CapEff</c> of /proc/self/status).</summary>
    public static bool Has(Capability capability) => Holds(EffectiveCapabilities(), capability);

    private static bool Holds(ulong set, Capability capability) => (set >> (int)capability & 1) != 0;

    /// <summary>
    /// Null when the process may load tracing programs and open perf events (root, CAP_SYS_ADMIN, or CAP_BPF with
    /// CAP_PERFMON); otherwise the reason and what to do, for a tool to print.
    /// </summary>
    public static string? WhyCannotTrace()
    {
        if (IsRoot)
        {
            return null;
        }
        ulong effective = EffectiveCapabilities(); // one read of /proc/self/status for every check below
        if (Holds(effective, Capability.SysAdmin) || (Holds(effective, Capability.Bpf) && Holds(effective, Capability.Perfmon)))
        {
            return null;
        }
        string missing = string.Join(" and ", new[] { Capability.Bpf, Capability.Perfmon }.Where(c => !Holds(effective, c)).Select(c => $"CAP_{c.ToString().ToUpperInvariant()}"));
        return $"tracing with BPF needs root (or CAP_BPF and CAP_PERFMON); this process runs as uid {LibC.GetEuid()} without {missing}: run it with sudo";
    }

    private static ulong EffectiveCapabilities()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // No procfs: nothing can be claimed, so no capability.
        }
        return 0;
    }
}
