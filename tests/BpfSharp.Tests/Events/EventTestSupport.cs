using System.Globalization;

namespace BpfSharp.Tests.Events;

/// <summary>Waiting on conditions and reading what the process holds (mappings, descriptors) for the event tests.</summary>
internal static class EventTestSupport
{
    /// <summary>Waits for <paramref name="condition"/> up to <paramref name="timeout"/>; false when it never held.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }
            Thread.Sleep(1);
        }
        return true;
    }

    /// <summary>How many of this process's mappings of <paramref name="inode"/> (e.g. <c>anon_inode:bpf-map</c>) are exactly <paramref name="length"/> bytes.</summary>
    public static int CountMappings(string inode, long length)
    {
        int count = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (!line.EndsWith(inode, StringComparison.Ordinal))
            {
                continue;
            }
            string range = line[..line.IndexOf(' ')];
            int dash = range.IndexOf('-');
            long start = long.Parse(range[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long end = long.Parse(range[(dash + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (end - start == length)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>How many of this process's descriptors refer to the map with id <paramref name="mapId"/>.</summary>
    public static int CountMapDescriptors(uint mapId)
    {
        int count = 0;
        string wanted = $"map_id:\t{mapId}";
        foreach (string fdinfo in Directory.EnumerateFiles("/proc/self/fdinfo"))
        {
            try
            {
                if (File.ReadLines(fdinfo).Any(l => l == wanted))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }
        return count;
    }
}
