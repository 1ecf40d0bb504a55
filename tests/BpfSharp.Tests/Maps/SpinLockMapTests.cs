using System.Runtime.InteropServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class SpinLockMapTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct LockedValue
    {
        public int Lock; // struct bpf_spin_lock: owned by the kernel, never copied to or from user space
        public int Data;
    }

    [KernelFact]
    public void LockFlagCopiesValuesUnderTheSpinLockDescribedByBtf()
    {
        using TestBtf btf = TestBtf.Load();
        using Map map = Map.Create(new MapSpec
        {
            Name = "locked",
            Type = MapType.Hash,
            KeySize = 4,
            ValueSize = 8,
            MaxEntries = 4,
            Btf = btf.Fd,
            BtfKeyTypeId = TestBtf.IntTypeId,
            BtfValueTypeId = TestBtf.LockedValueTypeId,
        });
        Assert.Equal(TestBtf.LockedValueTypeId, map.BtfValueTypeId);
        Assert.True(map.BtfId > 0);

        map.Update(1, new LockedValue { Data = 1 }); // BPF_F_LOCK needs an existing element on hash maps
        map.Update(1, new LockedValue { Lock = 12345, Data = 42 }, UpdateFlags.Lock | UpdateFlags.Exist);
        LockedValue read = map.Lookup<int, LockedValue>(1, UpdateFlags.Lock);
        Assert.Equal(42, read.Data);
        Assert.Equal(0, read.Lock); // the lock word is not copied out
    }

    [KernelFact]
    public void LockFlagOnAMapWithoutSpinLockIsExplained()
    {
        using var map = HashMap<int, long>.Create(4, "unlocked");
        map[1] = 1;
        var error = Assert.Throws<BpfException>(() => map.Update(1, 2, UpdateFlags.Lock));
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Contains("bpf_spin_lock", error.Message);
    }
}
