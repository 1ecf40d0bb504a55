namespace BpfSharp.Btf;

/// <summary>
/// BTF data is malformed (bad magic, truncated section, a type id or string offset out of range,
/// an unknown kind) or cannot be expressed as asked. Thrown by the parser, the type API and the
/// C writer; never a crash or a hang on corrupt input.
/// </summary>
public sealed class BtfException : BpfException
{
    /// <summary>Creates an exception with a message that says what is wrong with the BTF.</summary>
    /// <param name="message">What is wrong, and where.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public BtfException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
