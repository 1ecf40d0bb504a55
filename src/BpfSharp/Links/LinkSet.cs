using System.Collections;

namespace BpfSharp.Links;

/// <summary>
/// The links one call made, owned together: disposing the set detaches every link in it, last made first.
/// What <see cref="Collections.Collection.AttachAll"/> returns.
/// </summary>
public sealed class LinkSet : IReadOnlyList<Link>, IDisposable
{
    private readonly List<Link> _links = [];
    private readonly List<string> _programs = [];
    private readonly Dictionary<string, string> _notAttached = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>
    /// The programs the call left unattached although nobody asked it to skip them, each with the reason (its
    /// hook needs more than the section name, the section names no target, the kind cannot be attached
    /// automatically): attach those with their Link type.
    /// </summary>
    public IReadOnlyDictionary<string, string> NotAttached => _notAttached;

    /// <summary>The number of links.</summary>
    public int Count => _links.Count;

    /// <summary>The link at <paramref name="index"/>, in the order they were made.</summary>
    public Link this[int index] => _links[index];

    /// <summary>The name of the program each link attaches, index for index with the links.</summary>
    public IReadOnlyList<string> Programs => _programs;

    /// <summary>The links of the program named <paramref name="program"/> (several for hooks with one link per CPU or per site).</summary>
    public IEnumerable<Link> Of(string program)
    {
        for (int i = 0; i < _links.Count; i++)
        {
            if (_programs[i] == program)
            {
                yield return _links[i];
            }
        }
    }

    internal void Add(string program, Link link)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _links.Add(link);
        _programs.Add(program);
    }

    internal void AddNotAttached(string program, string reason) => _notAttached[program] = reason;

    /// <inheritdoc />
    public IEnumerator<Link> GetEnumerator() => _links.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Detaches every link, the last made first.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        for (int i = _links.Count - 1; i >= 0; i--)
        {
            _links[i].Dispose();
        }
    }
}
