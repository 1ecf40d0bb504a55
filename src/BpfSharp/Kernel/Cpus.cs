namespace BpfSharp.Kernel;

/// <summary>The machine's CPUs as the kernel lists them in sysfs.</summary>
public static class Cpus
{
    private static readonly Lazy<int[]> PossibleCpus = new(() => ReadList("/sys/devices/system/cpu/possible"));
    private static readonly Lazy<int[]> OnlineCpus = new(() => ReadList("/sys/devices/system/cpu/online"));

    /// <summary>
    /// The number of possible CPUs: per-CPU maps hold one value for each, including CPUs that are
    /// offline or not plugged in.
    /// </summary>
    public static int PossibleCount => PossibleCpus.Value.Length == 0 ? 0 : PossibleCpus.Value[^1] + 1;

    /// <summary>The possible CPU numbers.</summary>
    public static IReadOnlyList<int> Possible => PossibleCpus.Value;

    /// <summary>The CPUs online now (read once per process).</summary>
    public static IReadOnlyList<int> Online => OnlineCpus.Value;

    /// <summary>Parses a sysfs CPU list such as <c>0-3,5,7-8</c>.</summary>
    public static int[] ParseList(string text)
    {
        var cpus = new List<int>();
        foreach (string part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                cpus.Add(int.Parse(part, System.Globalization.CultureInfo.InvariantCulture));
                continue;
            }
            int first = int.Parse(part[..dash], System.Globalization.CultureInfo.InvariantCulture);
            int last = int.Parse(part[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            if (last < first)
            {
                throw new FormatException($"CPU range '{part}' ends before it starts");
            }
            for (int cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }
        return cpus.ToArray();
    }

    private static int[] ReadList(string path)
    {
        try
        {
            return ParseList(File.ReadAllText(path));
        }
        catch (IOException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        }
    }
}
