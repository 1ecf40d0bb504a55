using System.Text;
using System.Text.RegularExpressions;
using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>The C header writer: what it writes must compile with clang-14 and reproduce every layout.</summary>
public sealed partial class BtfCWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bpfsharp-vmlinux-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteHeader(BtfSpec spec, string name = "vmlinux.h")
    {
        string path = Path.Combine(_directory, name);
        using (FileStream file = File.Create(path))
        {
            BtfCWriter.WriteHeader(spec, file);
        }
        return path;
    }

    private void Compile(string source, string arguments = "-O2 -g -target bpf -D__TARGET_ARCH_x86")
    {
        File.WriteAllText(Path.Combine(_directory, "program.bpf.c"), source);
        BtfTestData.Run("clang-14", $"{arguments} -Wall -Werror -Wno-unused-variable -c program.bpf.c -o program.bpf.o", _directory);
    }

    [Fact]
    public void Vmlinux_header_compiles_a_CO_RE_program()
    {
        string header = File.ReadAllText(WriteHeader(KernelBtf.Vmlinux));
        Assert.StartsWith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n", header);
        Assert.EndsWith("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n", header);
        Compile("""
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_core_read.h>
            #include <bpf/bpf_tracing.h>

            char LICENSE[] SEC("license") = "GPL";
            int seen_pid, seen_parent_tgid;

            SEC("tp/syscalls/sys_enter_getpid")
            int on_getpid(void *ctx)
            {
                struct task_struct *task = (struct task_struct *)bpf_get_current_task();
                seen_pid = BPF_CORE_READ(task, pid);
                seen_parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
                return 0;
            }
            """);
        byte[] ext = ExtractExt(Path.Combine(_directory, "program.bpf.o"));
        BtfSpec btf = BtfSpec.Parse(ExtractBtf(Path.Combine(_directory, "program.bpf.o")));
        IReadOnlyList<BtfCoreRelocation> relocations = BtfExt.Parse(ext, btf).CoreRelocations["tp/syscalls/sys_enter_getpid"];
        Assert.Contains(relocations, r => btf[r.TypeId].Name == "task_struct" && r.Kind == BtfCoreRelocationKind.FieldByteOffset);
    }

    [Fact]
    public void Vmlinux_header_defines_every_name_bpftool_defines()
    {
        string mine = File.ReadAllText(WriteHeader(KernelBtf.Vmlinux));
        string bpftool = BtfTestData.Run("bpftool", $"btf dump file {KernelBtf.VmlinuxPath} format c");
        HashSet<string> expected = DefinedNames(bpftool);
        HashSet<string> actual = DefinedNames(mine);
        Assert.True(expected.Count > 1000);
        Assert.Empty(expected.Except(actual).Order().Take(20));
    }

    [Fact]
    public void Vmlinux_header_reproduces_every_size_and_member_offset()
    {
        BtfSpec vmlinux = KernelBtf.Vmlinux;
        WriteHeader(vmlinux);
        // Names used once by a struct, union or enum (tags share one C namespace; renamed ones are skipped).
        var counts = vmlinux.OwnTypes.Where(t => t.HasName && (t.IsComposite || t.IsEnum)).GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Count());
        var checks = new StringBuilder("#include \"vmlinux.h\"\n");
        int asserts = 0;
        foreach (BtfType type in vmlinux.OwnTypes.Where(t => t.HasName && (t.IsComposite || t.IsEnum) && counts[t.Name] == 1))
        {
            string tag = type.Kind switch { BtfKind.Struct => "struct", BtfKind.Union => "union", _ => "enum" };
            checks.Append($"_Static_assert(sizeof({tag} {type.Name}) == {type.Size}, \"{type.Name}\");\n");
            asserts++;
            if (!type.IsComposite)
            {
                continue;
            }
            foreach (BtfMember member in type.Members.Where(m => m.NameOffset != 0 && m.BitfieldSize == 0))
            {
                checks.Append($"_Static_assert(__builtin_offsetof({tag} {type.Name}, {member.Name}) == {member.ByteOffset}, \"{type.Name}.{member.Name}\");\n");
                asserts++;
            }
        }
        Assert.True(asserts > 50_000);
        // va_list is a builtin whose size differs between the kernel's target and BPF; bpftool's header has the same mismatch.
        string source = checks.ToString().Replace("_Static_assert(sizeof(struct warn_args) == 32, \"warn_args\");\n", "");
        File.WriteAllText(Path.Combine(_directory, "layout.c"), source);
        BtfTestData.Run("clang-14", "-fsyntax-only -target bpf -ferror-limit=0 layout.c", _directory);
    }

    [Fact]
    public void Object_and_built_BTF_headers_compile_with_exact_layouts()
    {
        // Object BTF: bitfields, anonymous members, function pointers, arrays of arrays, forwards.
        WriteHeader(BtfTestData.Spec("btf_kinds"), "kinds.h");
        // Built BTF: ENUM64, a packed struct, padding, renamed duplicates, a typedef of an anonymous struct.
        (BtfBuilder builder, Dictionary<string, int> ids) = BtfBuilderTests.EveryKind();
        int u32 = builder.Add(BtfTypeDefinition.Int("unsigned int", 4));
        builder.Add(BtfTypeDefinition.Struct("wire", 6, [new("tag", ids["uchar"], 0), new("length", u32, 8), new("end", ids["uchar"], 40)]));
        builder.Add(BtfTypeDefinition.Struct("spaced", 64, [new("first", ids["int"], 0), new("second", ids["int"], 256)]));
        builder.Add(BtfTypeDefinition.Struct("packet", 4, [new("different", ids["int"], 0)]));
        builder.Add(BtfTypeDefinition.Enum(null, 4, false, [new("LOW", 3)]));
        int anonymous = builder.Add(BtfTypeDefinition.Struct(null, 8, [new("a", ids["int"], 0), new("b", ids["int"], 32)]));
        builder.Add(BtfTypeDefinition.Typedef("pair_t", anonymous));
        builder.Add(BtfTypeDefinition.Typedef("__builtin_va_list", ids["ptr"]));
        string built = File.ReadAllText(WriteHeader(builder.BuildSpec(), "built.h"));
        Assert.Contains("} __attribute__((packed));", built);
        Assert.Contains("struct packet___2 {", built);
        Assert.Contains("LOW___2 = 3,", built);
        Assert.Contains("ALL = 18446744069414584320ULL,", built);
        Assert.Contains("typedef struct {\n\tint a;\n\tint b;\n} pair_t;", built);
        Assert.DoesNotContain("__builtin_va_list", built);

        Compile("""
            #include "kinds.h"
            _Static_assert(sizeof(struct record) == 144, "record");
            _Static_assert(__builtin_offsetof(struct record, counts) == 88, "counts");
            _Static_assert(__builtin_offsetof(struct record, point) == 136, "point");
            _Static_assert(sizeof(struct flags) == 8, "flags");
            _Static_assert(sizeof(((struct record *)0)->counts) == 48, "counts size");
            int use(struct record *r) { return r->callback(r, "text") + r->as_int + r->point.y + (r->color == BLUE); }
            """, "-fsyntax-only -target bpf");
        Compile("""
            #include "built.h"
            _Static_assert(sizeof(struct wire) == 6, "wire");
            _Static_assert(__builtin_offsetof(struct wire, length) == 1, "length");
            _Static_assert(__builtin_offsetof(struct wire, end) == 5, "end");
            _Static_assert(sizeof(struct spaced) == 64, "spaced");
            _Static_assert(__builtin_offsetof(struct spaced, second) == 32, "second");
            _Static_assert(sizeof(struct packet) == 24, "packet");
            _Static_assert(__builtin_offsetof(struct packet, owner) == 8, "owner");
            _Static_assert(sizeof(enum mask) == 8, "mask");
            _Static_assert(sizeof(pair_t) == 8, "pair");
            int f(struct packet *p) { return p->urgent + p->priority; }
            """, "-fsyntax-only -target bpf");
    }

    private static HashSet<string> DefinedNames(string header)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in DefinitionPattern().Matches(header))
        {
            names.Add(match.Value.TrimEnd(' ', '{'));
        }
        foreach (Match match in TypedefPattern().Matches(header))
        {
            names.Add("typedef " + match.Groups[1].Value);
        }
        return names;
    }

    [GeneratedRegex(@"^(struct|union|enum) \w+ \{", RegexOptions.Multiline)]
    private static partial Regex DefinitionPattern();

    // The name a typedef declares: the last identifier before ';', ')(' or '['.
    [GeneratedRegex(@"^typedef .*?[ *(](\w+)(\)\(.*|\[.*|\(.*)?;$", RegexOptions.Multiline)]
    private static partial Regex TypedefPattern();

    private byte[] ExtractBtf(string objectPath) => Extract(objectPath, ".BTF");

    private byte[] ExtractExt(string objectPath) => Extract(objectPath, ".BTF.ext");

    private byte[] Extract(string objectPath, string section)
    {
        string output = Path.Combine(_directory, section.TrimStart('.'));
        BtfTestData.Run("llvm-objcopy-14", $"--dump-section {section}={output} {objectPath} /dev/null");
        return File.ReadAllBytes(output);
    }
}
