using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

[Trait("Category", "Kernel")]
public class SyscallTests
{
    [KernelFact]
    public void BadCommandArgumentsBecomeBpfExceptionWithErrnoName()
    {
        // A map lookup on a descriptor that is not a map: the kernel answers EBADF or EINVAL.
        var attr = new MapElemAttr { MapFd = 0 };
        var error = Assert.Throws<BpfException>(() => Bpf.Call(BpfCommand.MapLookupElem, ref attr, "looking up in fd 0"));
        Assert.Equal("BPF_MAP_LOOKUP_ELEM", error.Operation);
        Assert.Equal(BpfCommand.MapLookupElem, error.Command);
        Assert.Contains(error.Errno, new[] { Errno.EBADF, Errno.EINVAL });
        Assert.Contains(error.ErrnoName, error.Message);
        Assert.Contains("looking up in fd 0", error.Message);
    }

    [KernelFact]
    public void ObjGetOfMissingPinSaysNothingIsPinned()
    {
        var error = Assert.Throws<BpfException>(() => Bpf.ObjGet("/sys/fs/bpf/bpfsharp-test-does-not-exist", "map"));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("nothing is pinned", error.Message);
    }

    [KernelFact]
    public void ProgramIdsCanBeEnumerated()
    {
        // Enumeration itself must work; the list may be empty on an idle machine.
        List<uint> ids = Bpf.AllIds(BpfCommand.ProgGetNextId);
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [KernelFact]
    public void DisposedDescriptorCannotBeBorrowed()
    {
        using FileDescriptor stats = Bpf.EnableStats();
        int number = stats.Value;
        Assert.True(number > 2);
        stats.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => stats.Borrow());
        Assert.Contains("run-time statistics", error.Message);
    }

    [Fact]
    public void TestObjectsAreCompiledByTheBuild()
    {
        string path = TestPrograms.Path("minimal");
        Assert.True(File.Exists(path), $"{path} should be built from tests/programs/minimal.bpf.c");
        byte[] header = File.ReadAllBytes(path)[..20];
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1 }, header[..6]);
        Assert.Equal(247, header[18]); // e_machine EM_BPF
    }
}
