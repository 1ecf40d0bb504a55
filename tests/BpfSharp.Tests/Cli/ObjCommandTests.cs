using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Cli;

public sealed partial class ObjCommandTests
{
    private static readonly string Tool = Path.Combine(AppContext.BaseDirectory, "bpfsharp");

    [Fact]
    public void InfoListsProgramsMapsVariablesExternsAndCoreRelocations()
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("subprograms"));
        Assert.True(exitCode == 0, error);
        Assert.Matches(@"on_getpid\s+tracepoint/syscalls/sys_enter_getpid\s+Tracepoint\s+-\s+syscalls/sys_enter_getpid", output);
        Assert.Matches(@"Subprograms: (add_step|fold|count_pid), (add_step|fold|count_pid), (add_step|fold|count_pid)\n", output);
        Assert.Matches(@"per_pid\s+\.maps\s+Hash\s+4\s+8\s+128\s+-\s+key __u32; value __u64", output);
        Assert.Matches(@"subprogr\.rodata\s+\.rodata\s+Array\s+4\s+4\s+1\s+ReadOnlyProgram, Mmapable\s+value \.rodata", output);
        Assert.Matches(@"depth_limit\s+\.rodata\s+0\s+4\s+const volatile __u32", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("tail_calls"));
        Assert.True(exitCode == 0, error);
        Assert.Contains("initial [0]=tail_unused, [1]=tail_drop", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("core_loader"));
        Assert.True(exitCode == 0, error);
        Assert.Contains("CO-RE relocations:", output);
        Assert.Matches(@"FieldExists\s+STRUCT 'task_struct___other'\s+0:1", output);
        Assert.Matches(@"kfunc|ksym|kconfig", ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("externs")).Output);
    }

    [Fact]
    public void InfoJsonIsOneDocumentWithTheValuesTheTablesShow()
    {
        using JsonDocument subprograms = InfoJson("subprograms");
        JsonElement root = subprograms.RootElement;
        Assert.Equal(("subprograms", "GPL", 0), (root.GetProperty("name").GetString(), root.GetProperty("license").GetString(), root.GetProperty("kernel_version").GetInt32()));
        JsonElement program = Assert.Single(root.GetProperty("programs").EnumerateArray());
        Assert.Equal("on_getpid", program.GetProperty("name").GetString());
        Assert.Equal("tracepoint/syscalls/sys_enter_getpid", program.GetProperty("section").GetString());
        Assert.Equal("tracepoint", program.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, program.GetProperty("expected_attach_type").ValueKind);
        Assert.Equal("syscalls/sys_enter_getpid", program.GetProperty("attach_target").GetString());
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("subprograms"));
        Assert.Equal(spec.Programs["on_getpid"].Instructions.Sum(i => i.Slots), program.GetProperty("instructions").GetInt32());
        Assert.Equal(spec.Link("on_getpid").Instructions.Sum(i => i.Slots), program.GetProperty("linked_instructions").GetInt32());
        Assert.Equal(["add_step", "count_pid", "fold"], Strings(program.GetProperty("subprograms")).Order());
        JsonElement perPid = Map(root, "per_pid");
        Assert.Equal(("hash", 4, 8, 128, "__u32", "__u64", "none"),
            (perPid.GetProperty("type").GetString(), perPid.GetProperty("key_size").GetInt32(), perPid.GetProperty("value_size").GetInt32(),
             perPid.GetProperty("max_entries").GetInt32(), perPid.GetProperty("key_type").GetString(), perPid.GetProperty("value_type").GetString(),
             perPid.GetProperty("pinning").GetString()));
        JsonElement rodata = Map(root, "subprogr.rodata");
        Assert.Equal(["rdonly_prog", "mmapable"], Strings(rodata.GetProperty("flag_names")));
        Assert.Equal(0x80 | 0x400, rodata.GetProperty("flags").GetInt32());
        Assert.Equal((".rodata", 4, "08"), (rodata.GetProperty("value_type").GetString(), rodata.GetProperty("initial_data_size").GetInt32(), rodata.GetProperty("initial_data").GetString()));
        JsonElement limit = Variable(root, "depth_limit");
        Assert.Equal((".rodata", 0, 4, "const volatile __u32"),
            (limit.GetProperty("section").GetString(), limit.GetProperty("offset").GetInt32(), limit.GetProperty("size").GetInt32(), limit.GetProperty("type").GetString()));

        using JsonDocument mapInMap = InfoJson("map_in_map");
        JsonElement outer = Map(mapInMap.RootElement, "outer_array");
        Assert.Equal("array_of_maps", outer.GetProperty("type").GetString());
        JsonElement inner = outer.GetProperty("inner_map");
        Assert.Equal(("array", 4, 8, 1), (inner.GetProperty("type").GetString(), inner.GetProperty("key_size").GetInt32(),
            inner.GetProperty("value_size").GetInt32(), inner.GetProperty("max_entries").GetInt32()));
        Assert.Equal([(0, "inner_a"), (1, "inner_b")], outer.GetProperty("initial_values").EnumerateArray()
            .Select(v => (v.GetProperty("index").GetInt32(), v.GetProperty("target").GetString())));
        Assert.Equal(JsonValueKind.Null, Map(mapInMap.RootElement, "inner_a").GetProperty("inner_map").ValueKind);

        using JsonDocument pinned = InfoJson("pinned_map");
        Assert.Equal("by_name", Map(pinned.RootElement, "shared_runs").GetProperty("pinning").GetString());
        Assert.Equal("xdp", Assert.Single(pinned.RootElement.GetProperty("programs").EnumerateArray()).GetProperty("expected_attach_type").GetString());

        using JsonDocument externs = InfoJson("externs");
        JsonElement hostname = externs.RootElement.GetProperty("externs").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "CONFIG_DEFAULT_HOSTNAME");
        Assert.Equal(("kconfig", true, "char [16]"), (hostname.GetProperty("kind").GetString(), hostname.GetProperty("weak").GetBoolean(), hostname.GetProperty("type").GetString()));
        JsonElement stext = externs.RootElement.GetProperty("externs").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "_stext");
        Assert.Equal(("ksym", false), (stext.GetProperty("kind").GetString(), stext.GetProperty("weak").GetBoolean()));

        using JsonDocument core = InfoJson("core_loader");
        JsonElement[] relocations = [.. core.RootElement.GetProperty("core_relocations").EnumerateArray()];
        Assert.Equal(8, relocations.Length);
        JsonElement exists = relocations.Single(r => r.GetProperty("access").GetString() == "0:1");
        Assert.Equal(("tracepoint/syscalls/sys_enter_getpid", "field_exists", "STRUCT 'task_struct___other'"),
            (exists.GetProperty("section").GetString(), exists.GetProperty("kind").GetString(), exists.GetProperty("type").GetString()));
        Assert.Equal(34, exists.GetProperty("instruction").GetInt32());

        using JsonDocument structOps = InfoJson("struct_ops_tcp");
        JsonElement ops = Map(structOps.RootElement, "bpfsharp_reno").GetProperty("struct_ops");
        Assert.Equal("tcp_congestion_ops", ops.GetProperty("type").GetString());
        Assert.Equal("bpfsharp_cong_avoid", ops.GetProperty("programs").GetProperty("cong_avoid").GetString());
        Assert.Equal(5, ops.GetProperty("programs").EnumerateObject().Count());
        Assert.Equal(JsonValueKind.Null, Map(subprograms.RootElement, "per_pid").GetProperty("struct_ops").ValueKind);
    }

    [Fact]
    public void InfoShowsWhichProgramFillsEachStructOpsMember()
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path("struct_ops_tcp"));
        Assert.True(exitCode == 0, error);
        Assert.Matches(@"bpfsharp_reno\s+\.struct_ops\s+StructOps\s.*struct_ops tcp_congestion_ops: cong_avoid=bpfsharp_cong_avoid, init=bpfsharp_init, release=bpfsharp_release, ssthresh=bpfsharp_ssthresh, undo_cwnd=bpfsharp_undo_cwnd", output);
    }

    [Fact]
    public void InfoJsonDescribesEveryCorpusObjectAsItsSpecSays()
    {
        foreach (string path in TestPrograms.All())
        {
            CollectionSpec spec = CollectionSpec.Load(path);
            (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "info", path, "--json");
            Assert.True(exitCode == 0, $"{path}: {error}");
            using JsonDocument document = JsonDocument.Parse(output);
            JsonElement root = document.RootElement;
            Assert.Equal(spec.Programs.Keys.Order(), root.GetProperty("programs").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Order());
            Assert.Equal(spec.Maps.Keys.Order(), root.GetProperty("maps").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).Order());
            Assert.Equal(spec.Variables.Keys.Order(), root.GetProperty("variables").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).Order());
            Assert.Equal(spec.Externs.Select(e => e.Name).Order(), root.GetProperty("externs").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).Order());
            Assert.Equal(spec.CoreRelocations.Values.Sum(r => r.Count), root.GetProperty("core_relocations").GetArrayLength());
            foreach (JsonElement map in root.GetProperty("maps").EnumerateArray())
            {
                Assert.Equal(spec.Maps[map.GetProperty("name").GetString()!].MaxEntries, map.GetProperty("max_entries").GetUInt32());
            }
        }
    }

    private static JsonDocument InfoJson(string name)
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "info", TestPrograms.Path(name), "--json");
        Assert.True(exitCode == 0, error);
        return JsonDocument.Parse(output);
    }

    private static JsonElement Map(JsonElement root, string name) =>
        root.GetProperty("maps").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);

    private static JsonElement Variable(JsonElement root, string name) =>
        root.GetProperty("variables").EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public void InfoExplainsBadInput()
    {
        (int exitCode, _, string error) = ExternalTool.Execute(Tool, "obj", "info", "/etc/hostname");
        Assert.Equal(1, exitCode);
        Assert.Contains("not a valid ELF object", error);
    }

    [Fact]
    public void DisasmInterleavesSourceLinesFromLineInfo()
    {
        string path = TestPrograms.Path("subprograms");
        (int exitCode, string withSource, string error) = ExternalTool.Execute(Tool, "obj", "disasm", path);
        Assert.True(exitCode == 0, error);
        (_, string without, _) = ExternalTool.Execute(Tool, "obj", "disasm", path, "--no-source");
        Assert.Contains("; \tbpf_loop(16, add_step, &state, 0);\n", withSource);
        Assert.Contains("; int on_getpid(void *ctx)\non_getpid:\n".Replace("; int on_getpid(void *ctx)\non_getpid:", "on_getpid:\n; int on_getpid(void *ctx)"), withSource);
        // The same instructions, only with comment lines added.
        Assert.Equal(without.Split('\n').Where(l => !l.StartsWith("; ")), withSource.Split('\n').Where(l => !l.StartsWith("; ")));
    }

    [Fact]
    public void DisasmOfOneProgramShowsItLinkedWithItsSubprograms()
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "disasm", TestPrograms.Path("subprograms"), "on_getpid");
        Assert.True(exitCode == 0, error);
        Assert.Contains("on_getpid:\n", output);
        Assert.Contains("count_pid:\n", output);
        Assert.Contains("add_step:\n", output);
        Assert.Contains("fold:\n", output);
        // Calls now point at the appended subprograms: call N jumps to the slot after it plus N.
        Match call = Regex.Match(output, @"(?m)^\s+(\d+):\tcall (\d+) <count_pid>$");
        Assert.True(call.Success, output);
        int target = int.Parse(call.Groups[1].Value) + 1 + int.Parse(call.Groups[2].Value);
        Assert.Matches($@"count_pid:\n(; .*\n)*\s+{target}:\t", output);

        (exitCode, _, error) = ExternalTool.Execute(Tool, "obj", "disasm", TestPrograms.Path("subprograms"), "nope");
        Assert.Equal(1, exitCode);
        Assert.Contains("has no program 'nope'; its programs: on_getpid", error);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void LoadReportsLoadedAndRejectedPrograms()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() != 0)
        {
            return;
        }
        (int exitCode, string output, string error) = ExternalTool.Execute(Tool, "obj", "load", TestPrograms.Path("minimal"));
        Assert.True(exitCode == 0, error);
        Assert.Matches(@"loaded count_runs \(xdp\): Xdp program id \d+", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "load", TestPrograms.Path("verifier_reject"));
        Assert.Equal(1, exitCode);
        Assert.Contains("program 'reads_too_far' (xdp) was rejected", error);
        Assert.Contains("verifier_reject.bpf.c:", error);
        Assert.Contains("; --log prints the whole verifier log", error); // the tool's words, not the library's
        Assert.DoesNotContain("VerifierException", error);
        Assert.Contains("loaded accepted", output);
        Assert.Contains("failed reads_too_far", output);

        (exitCode, output, error) = ExternalTool.Execute(Tool, "obj", "load", TestPrograms.Path("verifier_reject"), "--json");
        Assert.Equal(1, exitCode);
        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement loaded = Assert.Single(document.RootElement.GetProperty("loaded").EnumerateArray());
        Assert.Equal(("accepted", "xdp", "xdp"), (loaded.GetProperty("name").GetString(), loaded.GetProperty("section").GetString(), loaded.GetProperty("type").GetString()));
        Assert.True(loaded.GetProperty("id").GetUInt32() > 0);
        Assert.Equal(JsonValueKind.Null, loaded.GetProperty("pinned").ValueKind);
        JsonElement failed = Assert.Single(document.RootElement.GetProperty("failed").EnumerateArray());
        Assert.Equal("reads_too_far", failed.GetProperty("name").GetString());
        Assert.Contains("verifier_reject.bpf.c:", failed.GetProperty("reason").GetString());
    }

    /// <summary>
    /// bpfsharp obj load and Debian's bpftool prog loadall agree, object by object, on whether the object
    /// loads and which programs get pinned; the legacy-maps object is the one bpftool refuses and we load, and
    /// attach_all's optional program is one Debian's bpftool trips over.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void LoadAgreesWithBpftoolLoadallOnEveryCorpusObject()
    {
        if (BpfSharp.Kernel.LibC.GetEuid() != 0)
        {
            return;
        }
        string root = $"/sys/fs/bpf/bpfsharp-loadall-{Guid.NewGuid():N}";
        // libbpf pins LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf whatever the target directory; so do we.
        string sharedPin = "/sys/fs/bpf/shared_runs";
        bool sharedExisted = File.Exists(sharedPin);
        Directory.CreateDirectory(root);
        var disagreements = new List<string>();
        try
        {
            foreach (string path in TestPrograms.All())
            {
                string name = Path.GetFileName(path);
                // bpffs refuses names with dots.
                string stem = name.Replace('.', '_');
                string theirs = Path.Combine(root, stem + "_bpftool");
                string ours = Path.Combine(root, stem + "_bpfsharp");
                Directory.CreateDirectory(theirs);
                (int bpftoolExit, _, _) = ExternalTool.Execute("bpftool", "prog", "loadall", path, theirs);
                if (!sharedExisted)
                {
                    File.Delete(sharedPin);
                }
                (int ourExit, _, string ourError) = ExternalTool.Execute(Tool, "obj", "load", path, "--pin", ours);
                if (!sharedExisted)
                {
                    File.Delete(sharedPin);
                }
                string[] bpftoolPins = Pins(theirs);
                string[] ourPins = Pins(ours);
                if (name == "legacy_maps.bpf.o")
                {
                    Assert.NotEqual(0, bpftoolExit);
                    Assert.True(ourExit == 0, ourError);
                    Assert.Equal(["count_legacy"], ourPins);
                    continue;
                }
                if (name == "struct_ops_optional.bpf.o")
                {
                    // Debian's libbpf 1.1 predates SEC("?.struct_ops.link") and fails to load the object; newer libbpf, like
                    // us, leaves the optional map and its only program out and loads the rest.
                    Assert.True(ourExit == 0, ourError);
                    Assert.Equal(["shared_cong_avoid", "shared_ssthresh", "shared_undo_cwnd"], ourPins);
                    Assert.True(bpftoolExit != 0 || bpftoolPins.SequenceEqual(ourPins), $"bpftool pinned [{string.Join(", ", bpftoolPins)}]");
                    continue;
                }
                if (NewerThanDebiansLibbpf.TryGetValue(name, out string[]? expectedPins))
                {
                    // Sections Debian's libbpf 1.1 does not know: it refuses the object; newer libbpf loads it, as we do.
                    Assert.True(ourExit == 0, ourError);
                    Assert.True(bpftoolExit != 0 || bpftoolPins.SequenceEqual(ourPins), $"bpftool pinned [{string.Join(", ", bpftoolPins)}]");
                    Assert.Equal(expectedPins, ourPins);
                    continue;
                }
                if (name == "attach_all.bpf.o")
                {
                    // Its SEC("?...") program is not loaded by either; bpftool 7.1 (libbpf 1.1) then fails trying to pin
                    // it ("can't pin program that wasn't loaded"), a newer one pins the rest, as we do.
                    Assert.True(ourExit == 0, ourError);
                    Assert.Equal(["on_getppid", "on_sys_enter", "pass_all"], ourPins);
                    Assert.True(bpftoolExit != 0 || bpftoolPins.SequenceEqual(ourPins), $"bpftool pinned [{string.Join(", ", bpftoolPins)}]");
                    continue;
                }
                if ((bpftoolExit == 0) != (ourExit == 0) || (ourExit == 0 && !bpftoolPins.SequenceEqual(ourPins)))
                {
                    disagreements.Add($"{name}: bpftool exit {bpftoolExit} pins [{string.Join(", ", bpftoolPins)}]; bpfsharp exit {ourExit} pins [{string.Join(", ", ourPins)}] {ourError}");
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            if (!sharedExisted && File.Exists(sharedPin))
            {
                File.Delete(sharedPin);
            }
        }
        Assert.Empty(disagreements);
    }

    /// <summary>Corpus objects with sections newer than Debian's libbpf 1.1 (usdt.s, uprobe.session), and the programs we pin.</summary>
    private static readonly Dictionary<string, string[]> NewerThanDebiansLibbpf = new()
    {
        ["sleepable_probes.bpf.o"] = SectionPrograms("sleepable_probes"),
        ["uprobe_session.bpf.o"] = SectionPrograms("uprobe_session"),
    };

    private static string[] SectionPrograms(string name) =>
        [.. BpfSharp.Specs.CollectionSpec.Load(TestPrograms.Path(name)).Programs.Values.Where(p => p.Autoload).Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static string[] Pins(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];
}
