using System.Diagnostics;
using System.Runtime.InteropServices;
using BpfSharp.Asm;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Links;

/// <summary>
/// Every link test runs in this collection, alone (after the parallel collections): its fixture
/// records the system's program and link ids before the first test and checks, after the last,
/// that the same ids (and no others) exist: the tests left nothing attached or loaded.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LinkCollection : ICollectionFixture<KernelObjectLedger>
{
    public const string Name = "Links";
}

/// <summary>Records program and link ids at the start and verifies them at the end.</summary>
public sealed class KernelObjectLedger : IDisposable
{
    private readonly uint[] _programs = [];
    private readonly uint[] _links = [];

    public KernelObjectLedger()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() == 0)
        {
            _programs = [.. Program.AllIds()];
            _links = [.. Link.AllIds()];
        }
    }

    /// <summary>The ids before the tests.</summary>
    public IReadOnlyList<uint> ProgramsBefore => _programs;

    /// <summary>The link ids before the tests.</summary>
    public IReadOnlyList<uint> LinksBefore => _links;

    public void Dispose()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() != 0)
        {
            return;
        }
        // The kernel frees programs and links after an RCU grace period: wait for it. Objects another process
        // loaded meanwhile (systemd attaches cgroup programs as units start) are held by that process's
        // descriptors, and are not the tests' leaks; objects that went away are not leaks either.
        (uint[] Programs, uint[] Links) Leaked()
        {
            (HashSet<uint> programs, HashSet<uint> links) = HeldByOtherProcesses();
            return ([.. Program.AllIds().Except(_programs).Where(id => !programs.Contains(id))],
                    [.. Link.AllIds().Except(_links).Where(id => !links.Contains(id))]);
        }
        bool clean = LinkTestSupport.WaitUntil(() => Leaked() is { Programs.Length: 0, Links.Length: 0 }, TimeSpan.FromSeconds(10));
        if (!clean)
        {
            (uint[] programs, uint[] links) = Leaked();
            throw new InvalidOperationException($"link tests left kernel objects behind: programs [{string.Join(", ", programs)}], links [{string.Join(", ", links)}]");
        }
    }

    /// <summary>Program and link ids that a process other than this one holds a descriptor of (from /proc/PID/fdinfo).</summary>
    private static (HashSet<uint> Programs, HashSet<uint> Links) HeldByOtherProcesses()
    {
        var programs = new HashSet<uint>();
        var links = new HashSet<uint>();
        string self = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string process in Directory.EnumerateDirectories("/proc"))
        {
            string pid = Path.GetFileName(process);
            if (pid == self || !pid.All(char.IsAsciiDigit))
            {
                continue;
            }
            try
            {
                foreach (string fdinfo in Directory.EnumerateFiles(Path.Combine(process, "fdinfo")))
                {
                    foreach (string line in File.ReadLines(fdinfo))
                    {
                        if (line.StartsWith("link_id:", StringComparison.Ordinal))
                        {
                            links.Add(uint.Parse(line.AsSpan(8).Trim(), System.Globalization.CultureInfo.InvariantCulture));
                        }
                        else if (line.StartsWith("prog_id:", StringComparison.Ordinal))
                        {
                            programs.Add(uint.Parse(line.AsSpan(8).Trim(), System.Globalization.CultureInfo.InvariantCulture));
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited while it was read: it holds nothing any more.
            }
        }
        return (programs, links);
    }
}

/// <summary>Counting programs, triggers, and shell helpers shared by the link tests.</summary>
internal static partial class LinkTestSupport
{
    /// <summary>getppid(2): a system call with no side effect that nothing else in the test process makes.</summary>
    [LibraryImport("libc", EntryPoint = "getppid")]
    internal static partial int GetParentPid();

    internal const int SyscallGetppid = 110; // x86-64

    /// <summary>A TCP listener on 127.0.0.1, started on a free port, for the connect and socket tests.</summary>
    internal static System.Net.Sockets.TcpListener ListenOnLoopback(out int port)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    /// <summary>setns(2): moves the calling thread into the namespace behind <paramref name="fd"/>.</summary>
    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNamespace(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int type);

    internal const int CloneNewNet = 0x40000000;

    /// <summary><paramref name="slots"/> u64 counters in the single value of an array map (direct value access needs one entry).</summary>
    internal static CounterSlots Counters(int slots = 1, string name = "counters") => new(slots, name);

    /// <summary>Code that adds 1 to counter <paramref name="slot"/> and returns <paramref name="returnValue"/>; optional pid filter and extra filter code before.</summary>
    internal static IReadOnlyList<Instruction> CountingCode(CounterSlots counters, int returnValue = 0, int? pid = null, int slot = 0, Action<Assembler>? filter = null)
    {
        var asm = new Assembler();
        asm.Mov(Register.R6, Register.R1);
        filter?.Invoke(asm);
        if (pid is int processId)
        {
            asm.Call(HelperFunction.GetCurrentPidTgid)
               .Alu(AluOperation.RightShift, Register.R0, 32)
               .JumpIf(JumpOperation.NotEqual, Register.R0, processId, "out");
        }
        asm.Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, slot * 8))
           .Mov(Register.R2, 1)
           .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
           .Label("out")
           .Mov(Register.R0, returnValue)
           .Exit();
        return asm.Build();
    }

    /// <summary>Loads a counting program.</summary>
    internal static Program LoadCounter(ProgramType type, CounterSlots counters, AttachType? expected = null, int returnValue = 0, int? pid = null,
        int slot = 0, Action<Assembler>? filter = null, string name = "counter", uint attachBtfId = 0)
    {
        return Program.Load(new ProgramSpec
        {
            Name = name,
            Type = type,
            ExpectedAttachType = expected,
            Instructions = CountingCode(counters, returnValue, pid, slot, filter),
            License = "GPL",
            AttachBtfId = attachBtfId,
        });
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the time is up.</summary>
    internal static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Runs a command; returns exit code and output (stdout and stderr).</summary>
    internal static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        (int code, string output, string error) = ExternalTool.Execute(file, arguments);
        return (code, output + error);
    }

    /// <summary>Runs a command that must succeed.</summary>
    internal static string MustRun(string file, params string[] arguments)
    {
        (int code, string output) = Run(file, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({code}): {output}");
        }
        return output;
    }

    /// <summary>The compiled native test executable tests/native/NAME.c.</summary>
    internal static string NativeProgram(string name) => Path.Combine(AppContext.BaseDirectory, "native", name);

    /// <summary>Runs the probe target (it waits for a line on stdin first) and returns its output line.</summary>
    internal static string RunTarget(string path, int count)
    {
        var start = new ProcessStartInfo(path, count.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start)!;
        process.StandardInput.WriteLine("go");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd().Trim();
        Assert.True(process.WaitForExit(10_000), "the probe target did not finish");
        return output;
    }

    /// <summary>A short random suffix for names of namespaces, interfaces and cgroups.</summary>
    internal static string Suffix() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3]);
}

/// <summary>Counters a program increments in place: one array element of several u64 slots.</summary>
internal sealed class CounterSlots : IDisposable
{
    private readonly int _slots;

    public CounterSlots(int slots, string name)
    {
        _slots = slots;
        Map = Map.Create(new MapSpec { Name = name, Type = MapType.Array, KeySize = 4, ValueSize = (uint)(8 * slots), MaxEntries = 1 });
    }

    public Map Map { get; }

    public ulong this[int slot]
    {
        get
        {
            byte[] value = new byte[8 * _slots];
            Map.Lookup(BitConverter.GetBytes(0), value);
            return BitConverter.ToUInt64(value, slot * 8);
        }
    }

    public void Dispose() => Map.Dispose();
}

/// <summary>
/// A network namespace joined to this one by a veth pair: the host end <see cref="HostInterface"/>
/// (10.X.Y.1) here, the peer (10.X.Y.2) inside the namespace. Removed on dispose.
/// </summary>
internal sealed class VethNamespace : IDisposable
{
    public VethNamespace()
    {
        string suffix = LinkTestSupport.Suffix();
        Namespace = $"bpfsharp-{suffix}";
        HostInterface = $"bsh{suffix}";
        PeerInterface = $"bsp{suffix}";
        int subnet = FreeSubnet();
        HostAddress = $"10.213.{subnet}.1";
        PeerAddress = $"10.213.{subnet}.2";
        LinkTestSupport.MustRun("ip", "netns", "add", Namespace);
        try
        {
            // Fixed addresses and permanent neighbour entries both ways: no ARP, so a test whose program drops packets
            // for a while does not leave a failed neighbour entry that swallows the packets sent after it.
            string hostMac = $"02:bf:01:{suffix[..2]}:{suffix[2..4]}:{suffix[4..6]}";
            string peerMac = $"02:bf:02:{suffix[..2]}:{suffix[2..4]}:{suffix[4..6]}";
            LinkTestSupport.MustRun("ip", "link", "add", HostInterface, "address", hostMac, "type", "veth", "peer", "name", PeerInterface, "address", peerMac, "netns", Namespace);
            LinkTestSupport.MustRun("ip", "addr", "add", $"{HostAddress}/24", "dev", HostInterface);
            LinkTestSupport.MustRun("ip", "link", "set", HostInterface, "up");
            LinkTestSupport.MustRun("ip", "-n", Namespace, "addr", "add", $"{PeerAddress}/24", "dev", PeerInterface);
            LinkTestSupport.MustRun("ip", "-n", Namespace, "link", "set", PeerInterface, "up");
            LinkTestSupport.MustRun("ip", "-n", Namespace, "link", "set", "lo", "up");
            LinkTestSupport.MustRun("ip", "neigh", "replace", PeerAddress, "lladdr", peerMac, "dev", HostInterface, "nud", "permanent");
            LinkTestSupport.MustRun("ip", "-n", Namespace, "neigh", "replace", HostAddress, "lladdr", hostMac, "dev", PeerInterface, "nud", "permanent");
            HostIndex = BpfSharp.Kernel.NetworkInterfaces.Index(HostInterface);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// A 10.213.X.0/24 no host interface uses: other test runs on this machine (other worktrees) make namespaces
    /// too, and two host ends with one subnet would route each other's packets.
    /// </summary>
    private static int FreeSubnet()
    {
        var used = new HashSet<int>();
        foreach (System.Net.NetworkInformation.NetworkInterface nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (System.Net.NetworkInformation.UnicastIPAddressInformation address in nic.GetIPProperties().UnicastAddresses)
            {
                byte[] bytes = address.Address.GetAddressBytes();
                if (bytes.Length == 4 && bytes[0] == 10 && bytes[1] == 213)
                {
                    used.Add(bytes[2]);
                }
            }
        }
        int[] free = [.. Enumerable.Range(1, 249).Where(s => !used.Contains(s))];
        return free.Length > 0 ? free[Random.Shared.Next(free.Length)] : throw new InvalidOperationException("every 10.213.X.0/24 test subnet is in use");
    }

    public string Namespace { get; }
    public string HostInterface { get; }
    public string PeerInterface { get; }
    public string HostAddress { get; }
    public string PeerAddress { get; }
    public int HostIndex { get; }

    /// <summary>The namespace's file, for netns links.</summary>
    public string NamespacePath => $"/run/netns/{Namespace}";

    /// <summary>Runs a bash command inside the namespace.</summary>
    public (int ExitCode, string Output) Bash(string command) => LinkTestSupport.Run("ip", "netns", "exec", Namespace, "bash", "-c", command);

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread that has joined the namespace (setns changes only the calling
    /// thread's network namespace): interface names, ifindexes and tcx attachments there mean the namespace's.
    /// </summary>
    public T InNamespace<T>(Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle target = File.OpenHandle(NamespacePath);
                if (LinkTestSupport.SetNamespace(target, LinkTestSupport.CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({NamespacePath}) failed: errno {Marshal.GetLastPInvokeError()}");
                }
                // The thread ends after this: its namespace never leaks to other work.
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        return result;
    }

    /// <summary>Sends one UDP datagram from the namespace to the host end; true when bash could send it.</summary>
    public void SendUdpToHost(int port, string text) =>
        Bash($"echo {text} > /dev/udp/{HostAddress}/{port}");

    /// <summary>Sends <paramref name="count"/> datagrams from the namespace to a fresh host socket; how many arrived.</summary>
    public int DatagramsDelivered(int count)
    {
        using var receiver = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        receiver.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(HostAddress), 0));
        int port = ((System.Net.IPEndPoint)receiver.LocalEndPoint!).Port;
        for (int i = 0; i < count; i++)
        {
            SendUdpToHost(port, $"packet{i}");
        }
        int received = 0;
        byte[] buffer = new byte[256];
        // Wait for each datagram with a timeout: a dropped one never comes.
        while (received < count && receiver.Poll(TimeSpan.FromMilliseconds(received == 0 ? 1500 : 500), System.Net.Sockets.SelectMode.SelectRead))
        {
            receiver.Receive(buffer);
            received++;
        }
        return received;
    }

    public void Dispose()
    {
        // Deleting the namespace deletes the peer, and with it the host end of the pair.
        LinkTestSupport.Run("ip", "link", "del", HostInterface);
        LinkTestSupport.Run("ip", "netns", "del", Namespace);
    }
}

/// <summary>
/// A fresh cgroup v2 child under /sys/fs/cgroup/unified (or /sys/fs/cgroup), or under <c>parent</c>, removed on
/// dispose (dispose a child before its parent).
/// </summary>
internal sealed class TestCgroup : IDisposable
{
    public TestCgroup(TestCgroup? parent = null)
    {
        string root = parent?.Path ?? (File.Exists("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup");
        Path = System.IO.Path.Combine(root, $"bpfsharp-test-{LinkTestSupport.Suffix()}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Runs a bash command inside the cgroup (the shell moves itself in first).</summary>
    public (int ExitCode, string Output) Bash(string command) =>
        LinkTestSupport.Run("bash", "-c", $"echo $$ > {Path}/cgroup.procs && {command}");

    public void Dispose()
    {
        // Processes run in it have exited; an empty cgroup can be removed.
        LinkTestSupport.WaitUntil(() =>
        {
            try
            {
                Directory.Delete(Path);
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(5));
    }
}
