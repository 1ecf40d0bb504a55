namespace BpfSharp.Kernel;

/// <summary>Network interface names and indexes, as XDP and tc attachments need them.</summary>
public static class NetworkInterfaces
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
}
