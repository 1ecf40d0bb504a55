using System.Runtime.CompilerServices;
using System.Text;

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

    /// <summary>The field as text (UTF-8, up to its first NUL).</summary>
    internal static string Decode(ReadOnlySpan<byte> field) => Encoding.UTF8.GetString(Bytes(field));
}

/// <summary>A task's command name as bpf_get_current_comm writes it into an event or key: 16 bytes, NUL-padded.</summary>
[InlineArray(16)]
internal struct TaskComm
{
    private byte _first;

    /// <summary>The name, up to its first NUL.</summary>
    public override readonly string ToString() => CString.Decode(this);
}
