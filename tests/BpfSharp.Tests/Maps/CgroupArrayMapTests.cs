using BpfSharp.Maps;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Maps;

/// <summary>Cgroup arrays: storing a cgroup directory, and the error for a directory that is none.</summary>
[Trait("Category", "Kernel")]
public class CgroupArrayMapTests
{
    [KernelFact]
    public void StoresACgroupDirectoryAndClearsIt()
    {
        using var cgroup = new TestCgroup();
        using CgroupArrayMap cgroups = CgroupArrayMap.Create(2, "cgroups");
        Assert.Equal(2u, cgroups.Length);
        Assert.False(cgroups.Clear(0));
        cgroups.Set(0, cgroup.Path);
        Assert.True(cgroups.Clear(0)); // the slot was filled
        Assert.False(cgroups.Clear(0));
    }

    [KernelFact]
    public void ADirectoryThatIsNoCgroupIsRefusedWithTheReason()
    {
        using CgroupArrayMap cgroups = CgroupArrayMap.Create(1);
        BpfException e = Assert.Throws<BpfException>(() => cgroups.Set(0, "/tmp"));
        Assert.Contains("/tmp", e.Message, StringComparison.Ordinal);
        Assert.Contains("not a cgroup v2 directory", e.Message, StringComparison.Ordinal);
        BpfException missing = Assert.Throws<BpfException>(() => cgroups.Set(0, "/nonexistent/cgroup"));
        Assert.Contains("/nonexistent/cgroup", missing.Message, StringComparison.Ordinal);
    }

    [KernelFact]
    public void WrapsOnlyCgroupArrays()
    {
        using Map array = Map.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        Assert.Throws<ArgumentException>(() => new CgroupArrayMap(array));
    }
}
