namespace BpfSharp.Tests;

/// <summary>Paths of the BPF objects compiled from tests/programs by the build.</summary>
public static class TestPrograms
{
    /// <summary>The folder holding every compiled test object.</summary>
    public static string Directory { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "programs");

    /// <summary>The object compiled from tests/programs/NAME.bpf.c.</summary>
    public static string Path(string name) => System.IO.Path.Combine(Directory, name + ".bpf.o");

    /// <summary>Every compiled test object.</summary>
    public static IEnumerable<string> All() => System.IO.Directory.EnumerateFiles(Directory, "*.bpf.o").Order();
}
