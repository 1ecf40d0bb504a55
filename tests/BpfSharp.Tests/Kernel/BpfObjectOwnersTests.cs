using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Tests.Maps;

namespace BpfSharp.Tests.Kernel;

[Trait("Category", "Kernel")]
public class BpfObjectOwnersTests
{
    [KernelFact]
    public void NamesThisProcessAsHolderAndFindsPins()
    {
        using var directory = new BpfFsDirectory();
        using Map map = Map.Create(new MapSpec { Name = "owned", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        using Program program = TestProgramLoader.LoadSocketFilterReturningZero();
        string mapPin = Path.Combine(directory.Path, "owned_map");
        map.Pin(mapPin);

        BpfObjectOwners owners = BpfObjectOwners.Scan();

        BpfObjectHolder holder = Assert.Single(owners.Holders(BpfObjectKind.Map, map.Id), h => h.Pid == Environment.ProcessId);
        Assert.Equal(File.ReadAllText("/proc/self/comm").TrimEnd('\n'), holder.Command);
        Assert.Contains(owners.Holders(BpfObjectKind.Program, program.Id), h => h.Pid == Environment.ProcessId);
        Assert.Equal([mapPin], owners.Pins(BpfObjectKind.Map, map.Id));
        Assert.Empty(owners.Pins(BpfObjectKind.Program, program.Id));
        // The ids are per kind: a map and a program may share a number, and neither borrows the other's owners.
        Assert.DoesNotContain(owners.Holders(BpfObjectKind.Link, map.Id), h => h.Pid == Environment.ProcessId);
    }

    [KernelFact]
    public void AClosedObjectHasNoHolderAndAPinnedOneKeepsItsPin()
    {
        using var directory = new BpfFsDirectory();
        string pin = Path.Combine(directory.Path, "kept");
        uint id;
        using (Program program = TestProgramLoader.LoadSocketFilterReturningZero())
        {
            id = program.Id;
            program.Pin(pin);
        }

        BpfObjectOwners owners = BpfObjectOwners.Scan();

        Assert.DoesNotContain(owners.Holders(BpfObjectKind.Program, id), h => h.Pid == Environment.ProcessId);
        Assert.Equal([pin], owners.Pins(BpfObjectKind.Program, id));
        Assert.Empty(BpfObjectOwners.Scan(includePins: false).Pins(BpfObjectKind.Program, id));
    }
}
