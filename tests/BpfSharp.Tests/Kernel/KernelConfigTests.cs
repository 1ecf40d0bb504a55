using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

public class KernelConfigTests
{
    [Fact]
    public void ParsesTristatesNumbersAndStrings()
    {
        KernelConfig config = KernelConfig.Parse("""
            # Automatically generated file; DO NOT EDIT.
            CONFIG_BPF_SYSCALL=y
            CONFIG_NET_CLS_BPF=m
            # CONFIG_KPROBES is not set
            CONFIG_HZ=250
            CONFIG_PHYSICAL_START=0x1000000
            CONFIG_LOCALVERSION="-custom"
            """);

        Assert.Equal('y', config.Tristate("CONFIG_BPF_SYSCALL"));
        Assert.Equal('m', config.Tristate("NET_CLS_BPF"));
        Assert.Equal('n', config.Tristate("CONFIG_KPROBES"));
        Assert.False(config.IsEnabled("KPROBES"));
        Assert.Equal(250, config.Number("HZ"));
        Assert.Equal(0x1000000, config.Number("CONFIG_PHYSICAL_START"));
        Assert.Equal("\"-custom\"", config["LOCALVERSION"]);
        Assert.Null(config["KPROBES"]);
    }

    [Theory]
    [InlineData("6.18.44-fc-v769", 6, 18, 44, 0x06122c)]
    [InlineData("6.1.0-13-amd64", 6, 1, 0, 0x060100)]
    [InlineData("4.19.300", 4, 19, 300, 0x0413ff)] // the patch level saturates at 255
    [InlineData("5.15", 5, 15, 0, 0x050f00)]
    public void KernelReleasesGiveVersionCodes(string release, int major, int minor, int patch, uint code)
    {
        KernelRelease parsed = KernelRelease.Parse(release);
        Assert.Equal((major, minor, patch), (parsed.Major, parsed.Minor, parsed.Patch));
        Assert.Equal(code, parsed.VersionCode);
    }

    [Fact]
    public void RejectsNonReleases() => Assert.Throws<FormatException>(() => KernelRelease.Parse("linux"));

    [Fact]
    public void RunningKernelConfigSaysBpfIsOnAndKprobesOff()
    {
        KernelConfig? config = KernelConfig.Current;
        Assert.NotNull(config); // this machine has /proc/config.gz
        Assert.Equal('y', config.Tristate("BPF_SYSCALL"));
        Assert.False(config.IsEnabled("KPROBES")); // compiled out on this machine
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), KernelRelease.Current.Release);
    }
}
