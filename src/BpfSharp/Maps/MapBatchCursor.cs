namespace BpfSharp.Maps;

/// <summary>
/// Where a batch walk (<see cref="Map.LookupBatch"/>, <see cref="Map.LookupAndDeleteBatch"/>)
/// stopped: the kernel's opaque position token. A new cursor starts at the beginning of the map.
/// Hash maps track the position by bucket, so deleting entries during a batch walk never makes it
/// start over.
/// </summary>
public sealed class MapBatchCursor
{
    /// <summary>True once the kernel reported the end of the map; further batches return 0.</summary>
    public bool IsComplete { get; internal set; }

    internal bool IsStarted { get; private set; }

    internal byte[] Token { get; private set; } = [];

    internal byte[] NextToken { get; private set; } = [];

    /// <summary>Starts over from the beginning of the map.</summary>
    public void Reset()
    {
        IsComplete = false;
        IsStarted = false;
    }

    internal void EnsureTokenSize(int size)
    {
        if (Token.Length < size)
        {
            Token = new byte[size];
            NextToken = new byte[size];
        }
    }

    /// <summary>The kernel's output token becomes the next call's input.</summary>
    internal void Advance()
    {
        (Token, NextToken) = (NextToken, Token);
        IsStarted = true;
    }
}
