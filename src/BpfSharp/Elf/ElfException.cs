namespace BpfSharp.Elf;

/// <summary>An ELF file is malformed: truncated, inconsistent or not ELF64 at all.</summary>
public sealed class ElfException : Exception
{
    /// <summary>Creates the exception for a problem found at <paramref name="fileOffset"/> (when known).</summary>
    public ElfException(string message, long? fileOffset = null)
        : base(fileOffset is { } offset ? $"{message} (at file offset 0x{offset:x})" : message)
    {
        FileOffset = fileOffset;
    }

    /// <summary>The file offset where the problem was found, when known.</summary>
    public long? FileOffset { get; }
}
