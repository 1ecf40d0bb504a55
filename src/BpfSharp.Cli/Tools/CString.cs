namespace BpfSharp.Cli.Tools;

/// <summary>The fixed-size, NUL-padded character arrays BPF programs fill (<c>comm</c>, file names, paths), read back.</summary>
internal static class CString
{
    /// <summary>The bytes before the first NUL, or the whole field when it is full.</summary>
    internal static ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return end < 0 ? field : field[..end];
    }
}
