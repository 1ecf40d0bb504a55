using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

public sealed class FileIdentityTests
{
    [Fact]
    public void MatchesWhatStatSays()
    {
        string path = Path.GetTempFileName();
        try
        {
            FileIdentity identity = FileIdentity.Of(path);
            string[] stat = Run("stat", "-c", "%d %i", path).Split(' ');
            ulong device = ulong.Parse(stat[0]), inode = ulong.Parse(stat[1]);
            Assert.Equal(inode, identity.Inode);
            // glibc's dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
            ulong major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfffUL);
            ulong minor = (device & 0xff) | ((device >> 12) & ~0xffUL);
            Assert.Equal((uint)major, identity.DeviceMajor);
            Assert.Equal((uint)minor, identity.DeviceMinor);
            Assert.Equal(identity.DeviceMajor << 20 | identity.DeviceMinor, identity.KernelDevice);
            Assert.Equal((identity.DeviceMajor, identity.DeviceMinor), FileIdentity.SplitKernelDevice(identity.KernelDevice));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AMissingFileSaysSo()
    {
        var error = Assert.Throws<BpfException>(() => FileIdentity.Of("/nonexistent/bpfsharp-no-such-file"));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("/nonexistent/bpfsharp-no-such-file", error.Message);
    }

    private static string Run(string file, params string[] arguments) => ExternalTool.Run(file, arguments).Trim();
}
