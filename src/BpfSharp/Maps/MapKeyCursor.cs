namespace BpfSharp.Maps;

/// <summary>
/// A non-allocating walk over a map's keys, for hot paths: create it once with
/// <see cref="Map.CreateKeyCursor"/>, call <see cref="TryNext(Span{byte})"/> until it returns false,
/// and <see cref="Reset"/> to walk again. Each key is handed out once.
/// </summary>
/// <remarks>
/// The cursor fetches a key's successor before handing the key out, so deleting keys already
/// received (such as the current one) is safe. It keeps no record of the keys it handed out, so it
/// cannot survive the kernel restarting the walk: if another writer deletes the key the cursor
/// holds next, the cursor notices (that key is gone when it steps past it) and throws
/// <see cref="InvalidOperationException"/> rather than hand out keys a second time. Use
/// <see cref="Map.Keys()"/>, which tolerates that, when other writers delete keys concurrently.
/// A cursor holds its own buffers, so one cursor must not be used by two threads at once.
/// </remarks>
public sealed class MapKeyCursor
{
    private readonly Map _map;
    private readonly byte[] _held;
    private readonly byte[] _successor;
    private readonly byte[] _probe;
    private readonly bool _canRestart;
    private bool _started;
    private bool _hasHeld;
    private bool _probeHoldsValue;
    private long _steps;

    internal MapKeyCursor(Map map)
    {
        _map = map;
        _held = new byte[map.KeySize];
        _successor = new byte[map.KeySize];
        _probe = new byte[map.ValueBufferSize];
        _canRestart = !Map.IsArrayType(map.Type);
    }

    /// <summary>Copies the next key into <paramref name="key"/>; false when the walk is over.</summary>
    /// <param name="key"><see cref="Map.KeySize"/> bytes.</param>
    public bool TryNext(Span<byte> key)
    {
        _map.CheckKey(key);
        if (!_started)
        {
            _started = true;
            _hasHeld = _map.TryGetNextKey(default, _held);
        }
        if (!_hasHeld)
        {
            return false;
        }
        _held.CopyTo(key);
        // Step past the key being handed out while it is still in the map. If it is gone, the
        // kernel would answer with the first key again: refuse instead of repeating keys.
        _probeHoldsValue = _canRestart && _map.TryLookup(_held, _probe);
        if (_canRestart && !_probeHoldsValue)
        {
            _hasHeld = false;
            throw new InvalidOperationException(
                $"A key of {_map} was deleted just ahead of the key cursor (before the cursor handed it out), so the walk cannot continue without repeating keys; walk again, or use Map.Keys(), which tolerates concurrent deletion.");
        }
        _hasHeld = _map.TryGetNextKey(_held, _successor);
        if (_hasHeld)
        {
            _successor.CopyTo(_held, 0);
            // A walk without restarts takes at most as many steps as the map holds keys; this
            // bound only trips if a deletion slips in between the check above and the step.
            if (++_steps > _map.WalkStepLimit)
            {
                throw new InvalidOperationException($"Walking {_map} took more than {_map.WalkStepLimit} steps; other writers keep changing the map under the cursor.");
            }
        }
        return true;
    }

    /// <summary>Copies the next key and its value; false when the walk is over. Empty slots of program and map arrays are skipped.</summary>
    /// <param name="key"><see cref="Map.KeySize"/> bytes.</param>
    /// <param name="value"><see cref="Map.ValueBufferSize"/> bytes.</param>
    public bool TryNext(Span<byte> key, Span<byte> value)
    {
        _map.CheckValue(value.Length, nameof(value));
        while (TryNext(key))
        {
            // On maps that can restart, stepping already read the value to check the key exists.
            if (_probeHoldsValue)
            {
                _probe.CopyTo(value);
                return true;
            }
            if (_map.TryLookup(key, value))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Starts the walk again from the first key.</summary>
    public void Reset()
    {
        _started = false;
        _hasHeld = false;
        _steps = 0;
    }
}
