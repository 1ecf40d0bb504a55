using System.Diagnostics;

namespace BpfSharp.Tests;

/// <summary>Runs a reference tool (llvm-objdump-14, llvm-readelf-14, llvm-mc-14) and returns its output.</summary>
public static class ExternalTool
{
    /// <summary>Runs <paramref name="tool"/> with <paramref name="arguments"/>; fails the test with its stderr when it fails or is missing.</summary>
    public static string Run(string tool, params string[] arguments)
    {
        (int exitCode, string output, string error) = Execute(tool, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} exited with {exitCode}: {error}");
        }
        return output;
    }

    /// <summary>Runs <paramref name="tool"/> and returns its exit code, standard output and standard error.</summary>
    public static (int ExitCode, string Output, string Error) Execute(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is needed by this test but cannot be run ({e.Message}); install llvm-14", e);
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within 60 s");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
    }
}
