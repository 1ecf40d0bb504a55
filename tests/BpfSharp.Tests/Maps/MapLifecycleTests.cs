using BpfSharp.Programs;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapLifecycleTests
{
    [KernelFact]
    public void PinnedMapReopensWithTheSameDataAndInfo()
    {
        using var directory = new BpfFsDirectory();
        string path = Path.Combine(directory.Path, "counts");
        using var counts = HashMap<int, long>.Create(8, "pinned_counts");
        counts[1] = 111;
        counts.Map.Pin(path);
        Assert.Equal(path, counts.Map.PinnedPath);
        Assert.True(File.Exists(path));

        using (Map reopened = Map.OpenPinned(path))
        {
            Assert.Equal(counts.Map.Info, reopened.Info);
            Assert.Equal(111, reopened.Lookup<int, long>(1));
            reopened.Update<int, long>(2, 222);
        }
        Assert.Equal(222, counts[2]);

        var again = Assert.Throws<BpfException>(() => counts.Map.Pin(path));
        Assert.Equal(Errno.EEXIST, again.Errno);

        counts.Map.Unpin();
        Assert.False(File.Exists(path));
        Assert.Null(counts.Map.PinnedPath);
        Assert.Equal(Errno.ENOENT, Assert.Throws<BpfException>(() => Map.OpenPinned(path)).Errno);
    }

    [KernelFact]
    public void ReadOnlyOpenRefusesWrites()
    {
        using var directory = new BpfFsDirectory();
        string path = Path.Combine(directory.Path, "ro");
        using var map = HashMap<int, long>.Create(8, "ro_map");
        map[1] = 5;
        map.Map.Pin(path);
        using Map readOnly = Map.OpenPinned(path, ObjectAccess.ReadOnly);
        Assert.Equal(5, readOnly.Lookup<int, long>(1));
        var error = Assert.Throws<BpfException>(() => readOnly.Update<int, long>(1, 6));
        Assert.Equal(Errno.EPERM, error.Errno);
        Assert.Contains("read-only", error.Message);
    }

    [KernelFact]
    public void OpeningAPinnedProgramAsAMapIsAnArgumentError()
    {
        using var directory = new BpfFsDirectory();
        string path = Path.Combine(directory.Path, "program");
        using Program program = TestProgramLoader.LoadSocketFilterReturningZero();
        program.Pin(path);
        var error = Assert.Throws<ArgumentException>(() => Map.OpenPinned(path));
        Assert.Contains("not a BPF map", error.Message);
        Assert.Contains("bpf-prog", error.Message);
    }

    [KernelFact]
    public void FromIdAndInfoDescribeTheSameMap()
    {
        using var map = HashMap<int, long>.Create(8, "by_id");
        map[3] = 33;
        uint id = map.Map.Id;

        Assert.Contains(id, Map.AllIds());
        MapInfo info = Map.GetInfo(id);
        Assert.Equal(map.Map.Info, info);
        Assert.Equal("by_id", info.Name);
        Assert.Equal(MapType.Hash, info.Type);
        Assert.Equal(4u, info.KeySize);
        Assert.Equal(8u, info.ValueSize);
        Assert.Equal(8u, info.MaxEntries);
        Assert.Contains(Map.All(), other => other.Id == id && other.Name == "by_id");

        using Map byId = Map.FromId(id);
        Assert.Equal(33, byId.Lookup<int, long>(3));
        Assert.Equal(id, byId.Id);
    }

    [KernelFact]
    public void DisposedMapIsFreedByTheKernel()
    {
        Map map = Map.Create(new MapSpec { Name = "freed", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        uint id = map.Id;
        map.Dispose();
        // The kernel frees maps asynchronously (after an RCU grace period): wait for it, bounded.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Map.AllIds().Contains(id) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
        Assert.DoesNotContain(id, Map.AllIds());
        var error = Assert.Throws<BpfException>(() => Map.FromId(id));
        Assert.Equal(Errno.ENOENT, error.Errno);
    }

    [KernelFact]
    public void FromFileDescriptorAdoptsADuplicate()
    {
        using var map = ArrayMap<int>.Create(2, "adopt");
        map[1] = 7;
        using Map adopted = Map.FromFileDescriptor(map.Fd.Duplicate());
        Assert.Equal(map.Map.Id, adopted.Id);
        Assert.Equal(7, adopted.Lookup<uint, int>(1));
    }

    [KernelFact]
    public void AdoptingADescriptorThatIsNotAMapIsAnArgumentError()
    {
        using TestBtf btf = TestBtf.Load();
        var error = Assert.Throws<ArgumentException>(() => Map.FromFileDescriptor(btf.Fd.Duplicate()));
        Assert.Contains("not a BPF map", error.Message);
    }

    [KernelFact]
    public void DisposingWhileAnotherThreadUsesTheMapNeverCrashes()
    {
        var map = HashMap<int, long>.Create(8, "race");
        map[1] = 1;
        Exception? unexpected = null;
        int disposedSeen = 0;
        using var started = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            started.Set();
            try
            {
                while (true)
                {
                    Assert.Equal(1, map[1]);
                }
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Exchange(ref disposedSeen, 1);
            }
            catch (Exception error)
            {
                unexpected = error;
            }
        });
        reader.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        map.Dispose();
        Assert.True(reader.Join(TimeSpan.FromSeconds(10)), "the reader did not stop after the map was disposed");
        Assert.Null(unexpected);
        Assert.Equal(1, disposedSeen);
    }
}
