namespace BpfSharp.Symbols;

/// <summary>The search symbol tables share: which entry of an address-sorted table an address falls in.</summary>
internal static class SortedAddresses
{
    /// <summary>
    /// The index of the entry an address falls in: the last entry at or below <paramref name="address"/>, walked
    /// back over entries at the same address to the first of them (tables put the preferred alias first); -1 when
    /// every entry lies above the address.
    /// </summary>
    internal static int Floor<T>(T[] sorted, ulong address, Func<T, ulong> addressOf)
    {
        int low = 0, high = sorted.Length - 1, found = -1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            if (addressOf(sorted[middle]) <= address)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        while (found > 0 && addressOf(sorted[found - 1]) == addressOf(sorted[found]))
        {
            found--;
        }
        return found;
    }
}
