namespace BpfSharp.Kernel;

/// <summary>Network interface names and indexes, as XDP and tc attachments need them.</summary>
public static unsafe class NetworkInterfaces
{
    /// <summary>The index of the interface named <paramref name="name"/> in this process's network namespace.</summary>
    /// <exception cref="BpfException">No interface has that name here.</exception>
    public static int Index(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        uint index = LibC.IfNameToIndex(name);
        if (index == 0)
        {
            throw new BpfException($"there is no network interface '{name}' in this network namespace (list them with: ip link)");
        }
        return (int)index;
    }

    /// <summary>The name of the interface with index <paramref name="index"/> in this network namespace, or null when there is none.</summary>
    public static string? Name(int index)
    {
        const int NameSize = 16; // IF_NAMESIZE
        byte* name = stackalloc byte[NameSize];
        return index > 0 && LibC.IfIndexToName((uint)index, name) != null
            ? System.Text.Encoding.UTF8.GetString(name, new ReadOnlySpan<byte>(name, NameSize).IndexOf((byte)0) is int n and >= 0 ? n : NameSize)
            : null;
    }
}
