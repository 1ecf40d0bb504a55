namespace BpfSharp.Specs;

/// <summary>
/// A BPF object file (a clang-compiled <c>*.bpf.o</c>) that cannot be turned into a <see cref="CollectionSpec"/>:
/// a corrupt or truncated ELF image, a section or relocation the loader does not understand, a malformed map
/// definition. The message says what is wrong and where; <see cref="Exception.InnerException"/> holds the ELF or
/// BTF reader's error when one caused it.
/// </summary>
public sealed class BpfObjectException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="objectName">The object (file name or the name given to <see cref="CollectionSpec.FromBytes"/>).</param>
    /// <param name="message">What is wrong, and where in the object.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public BpfObjectException(string objectName, string message, Exception? inner = null)
        : base($"{objectName}: {message}", inner)
    {
        ObjectName = objectName;
    }

    /// <summary>The object the error is about.</summary>
    public string ObjectName { get; }
}
