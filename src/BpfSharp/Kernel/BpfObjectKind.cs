namespace BpfSharp.Kernel;

/// <summary>What kind of BPF object a descriptor refers to.</summary>
public enum BpfObjectKind
{
    /// <summary>Not a BPF object, or a kind this library does not name.</summary>
    Unknown,

    /// <summary>A program (<c>anon_inode:bpf-prog</c>).</summary>
    Program,

    /// <summary>A map (<c>anon_inode:bpf-map</c>).</summary>
    Map,

    /// <summary>A link (<c>anon_inode:bpf_link</c>).</summary>
    Link,

    /// <summary>A BTF object (<c>anon_inode:btf</c>).</summary>
    Btf,
}

/// <summary>Tells BPF object kinds apart.</summary>
public static class BpfObjectKinds
{
    /// <summary>
    /// The kind of object behind <paramref name="fd"/>. BPF_OBJ_GET opens whatever is pinned and
    /// BPF_OBJ_GET_INFO_BY_FD answers for any kind, so neither can check that a pin holds the
    /// kind the caller expects; the anonymous inode's name, which the kernel gives each kind, can.
    /// </summary>
    public static BpfObjectKind Of(FileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        using FileDescriptor.Lease lease = fd.Borrow();
        return OfInodeName(new FileInfo($"/proc/self/fd/{lease.Fd}").LinkTarget);
    }

    /// <summary>The kind of object a descriptor's link target in <c>/proc/PID/fd</c> names (<c>anon_inode:bpf-map</c>...).</summary>
    internal static BpfObjectKind OfInodeName(string? target)
    {
        return target switch
        {
            "anon_inode:bpf-prog" => BpfObjectKind.Program,
            "anon_inode:bpf-map" => BpfObjectKind.Map,
            // A new link's file is "bpf_link"; one reopened from a pin or an id is "bpf-link".
            "anon_inode:bpf_link" or "anon_inode:bpf-link" => BpfObjectKind.Link,
            "anon_inode:btf" => BpfObjectKind.Btf,
            _ => BpfObjectKind.Unknown,
        };
    }
}
