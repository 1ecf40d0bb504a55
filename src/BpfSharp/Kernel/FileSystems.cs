namespace BpfSharp.Kernel;

/// <summary>Finds and mounts the pseudo file systems BPF tools rely on (tracefs, bpffs).</summary>
internal static class FileSystems
{
    /// <summary>The mount points of a file system type, from /proc/self/mounts.</summary>
    internal static IEnumerable<string> MountPoints(string fileSystemType)
    {
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 2 && fields[2] == fileSystemType)
            {
                yield return Unescape(fields[1]);
            }
        }
    }

    /// <summary>mount(2) of a pseudo file system with no device.</summary>
    internal static void Mount(string fileSystemType, string target)
    {
        Directory.CreateDirectory(target);
        if (LibC.Mount(fileSystemType, target, fileSystemType, 0, 0) != 0)
        {
            throw Errors.FromLastError("mount", $"mounting {fileSystemType} at {target}");
        }
    }

    // /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    private static string Unescape(string path)
    {
        if (!path.Contains('\\'))
        {
            return path;
        }
        var text = new System.Text.StringBuilder(path.Length);
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == '\\' && i + 3 < path.Length && !path.AsSpan(i + 1, 3).ContainsAnyExcept("01234567"))
            {
                text.Append((char)Convert.ToInt32(path.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(path[i]);
            }
        }
        return text.ToString();
    }
}
