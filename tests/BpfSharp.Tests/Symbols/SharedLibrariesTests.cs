using BpfSharp.Symbols;

namespace BpfSharp.Tests.Symbols;

public class SharedLibrariesTests
{
    [Fact]
    public void LoaderCacheKnowsLibcForThisArchitecture()
    {
        IReadOnlyDictionary<string, string> cache = SharedLibraries.ReadLoaderCache("/etc/ld.so.cache");
        Assert.True(cache.ContainsKey("libc.so.6"), "ld.so.cache should list libc.so.6");
        Assert.True(File.Exists(cache["libc.so.6"]));
        Assert.True(cache.Count > 50);
    }

    [Fact]
    public void ResolvesNamesPathsAndExecutablesOnPath()
    {
        string libc = SharedLibraries.Resolve("libc.so.6");
        Assert.EndsWith("/libc.so.6", libc);
        Assert.Equal("/usr/bin/env", SharedLibraries.Resolve("/usr/bin/env"));
        Assert.True(File.Exists(SharedLibraries.Resolve("env")));
    }

    [Fact]
    public void ResolvesTheLibraryAProcessMapped()
    {
        // This test process maps libcoreclr.so from the .NET install, which ld.so.cache does not know.
        string coreclr = SharedLibraries.Resolve("libcoreclr.so", Environment.ProcessId);
        Assert.StartsWith($"/proc/{Environment.ProcessId}/root/", coreclr);
        Assert.EndsWith("/libcoreclr.so", coreclr);
        Assert.True(File.Exists(coreclr));
    }

    [Fact]
    public void MissingLibrariesSayWhereTheyWereLookedFor()
    {
        var error = Assert.Throws<BpfException>(() => SharedLibraries.Resolve("libdoesnotexist.so.9"));
        Assert.Contains("ld.so.cache", error.Message);
        Assert.Empty(SharedLibraries.ParseLoaderCache("garbage that is not a cache"u8));
        // A header that claims far more entries than the file holds.
        byte[] corrupt = new byte[64];
        "glibc-ld.so.cache1.1"u8.CopyTo(corrupt);
        BitConverter.GetBytes(int.MaxValue).CopyTo(corrupt, 20);
        Assert.Empty(SharedLibraries.ParseLoaderCache(corrupt));
    }
}
