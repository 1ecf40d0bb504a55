using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Features;

/// <summary>Probes kernel facts: files the kernel publishes, and small tries where no file tells.</summary>
internal static unsafe class KernelFeatureProbe
{
    internal static FeatureResult Probe(KernelFeature feature) => feature switch
    {
        KernelFeature.VmlinuxBtf => File.Exists(VmlinuxFunctions.Path)
            ? FeatureResult.Supported($"{VmlinuxFunctions.Path}, {new FileInfo(VmlinuxFunctions.Path).Length / 1024} KiB")
            : FeatureResult.Unsupported($"{VmlinuxFunctions.Path} does not exist: the kernel was built without CONFIG_DEBUG_INFO_BTF, so CO-RE, fentry and LSM programs cannot find kernel types"),
        KernelFeature.JitEnabled => Jit(),
        KernelFeature.UnprivilegedBpf => Unprivileged(),
        KernelFeature.Tracefs => Tracefs.MountPoint() is string mount
            ? FeatureResult.Supported($"mounted at {mount}")
            : FeatureResult.Unsupported("tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)"),
        KernelFeature.HardwarePerfEvents => PerfEvent(PerfEvents.TypeHardware, 0 /* PERF_COUNT_HW_CPU_CYCLES */, "CPU cycles"),
        KernelFeature.SoftwarePerfEvents => PerfEvent(PerfEvents.TypeSoftware, PerfEvents.SoftwareCpuClock, "cpu-clock"),
        KernelFeature.BpfLink => HookProbe.RawTracepointLink(checkLinkInfo: true),
        KernelFeature.RingBuffer => KernelSupport.ForMapType(MapType.RingBuf),
        KernelFeature.BpfCookie => KernelSupport.ForHelper(ProgramType.Tracepoint, HelperFunction.GetAttachCookie),
        _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "not a kernel feature"),
    };

    private static FeatureResult Jit()
    {
        const string path = "/proc/sys/net/core/bpf_jit_enable";
        if (!File.Exists(path))
        {
            return FeatureResult.Unsupported($"{path} does not exist: the kernel has no BPF JIT for this architecture, programs run in the interpreter");
        }
        return File.ReadAllText(path).Trim() switch
        {
            "0" => FeatureResult.Unsupported("bpf_jit_enable is 0: programs run in the interpreter (echo 1 > /proc/sys/net/core/bpf_jit_enable)"),
            "1" => FeatureResult.Supported("bpf_jit_enable is 1"),
            "2" => FeatureResult.Supported("bpf_jit_enable is 2 (with debug output to the kernel log)"),
            string other => FeatureResult.Failed($"bpf_jit_enable is '{other}'"),
        };
    }

    private static FeatureResult Unprivileged()
    {
        const string path = "/proc/sys/kernel/unprivileged_bpf_disabled";
        if (!File.Exists(path))
        {
            return FeatureResult.Unsupported($"{path} does not exist");
        }
        return File.ReadAllText(path).Trim() switch
        {
            "0" => FeatureResult.Supported("unprivileged_bpf_disabled is 0: users without CAP_BPF may load socket filters"),
            "1" => FeatureResult.Unsupported("unprivileged_bpf_disabled is 1: only privileged users, until the next boot"),
            "2" => FeatureResult.Unsupported("unprivileged_bpf_disabled is 2: only privileged users (root may set it to 0)"),
            string other => FeatureResult.Failed($"unprivileged_bpf_disabled is '{other}'"),
        };
    }

    private static FeatureResult PerfEvent(uint type, ulong config, string name)
    {
        var attr = new PerfEventAttr { Type = type, Config = config, Flags = PerfEvents.FlagDisabled };
        try
        {
            // Count this process on any CPU; the event stays disabled and is closed at once.
            using FileDescriptor fd = PerfEvents.Open(ref attr, pid: 0, cpu: -1, groupFd: -1, flags: 0, $"{name} perf event");
            return FeatureResult.Supported($"perf_event_open of {name} succeeded");
        }
        catch (BpfException error) when (error.Errno is Errno.ENOENT or Errno.EOPNOTSUPP or Errno.ENODEV)
        {
            return FeatureResult.Unsupported($"perf_event_open of {name}: {error.ErrnoName}; {error.Hint}");
        }
        catch (BpfException error) when (error.Errno is Errno.EPERM or Errno.EACCES && Errors.IsRoot)
        {
            return FeatureResult.Refused($"perf_event_open of {name}: {error.ErrnoName} although the process is root");
        }
    }
}

/// <summary>Where tracefs is mounted.</summary>
internal static class Tracefs
{
    /// <summary>The first tracefs mount point in /proc/mounts, or null when none is mounted.</summary>
    internal static string? MountPoint()
    {
        if (!File.Exists("/proc/mounts"))
        {
            return null;
        }
        foreach (string line in File.ReadLines("/proc/mounts"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 2 && fields[2] == "tracefs")
            {
                return fields[1];
            }
        }
        return null;
    }
}
