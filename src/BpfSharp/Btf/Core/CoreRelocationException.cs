namespace BpfSharp.Btf.Core;

/// <summary>
/// A CO-RE relocation cannot be applied: its access string does not fit the object's BTF, several
/// target candidates disagree (ambiguity), the instruction does not hold what the relocation says
/// the compiler put there, or the new value does not fit the instruction. Unlike a relocation
/// that merely finds nothing in the target (which poisons the instruction), these mean the object
/// and the target cannot be combined safely, so loading stops.
/// </summary>
public sealed class CoreRelocationException : BpfException
{
    /// <summary>Creates an exception that says which relocation failed and why.</summary>
    /// <param name="message">What failed, why, and what to do.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public CoreRelocationException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
