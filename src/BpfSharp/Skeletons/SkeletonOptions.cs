namespace BpfSharp.Skeletons;

/// <summary>Where a generated skeleton reads its BPF object from when it opens it.</summary>
public enum SkeletonObjectSource
{
    /// <summary>The object's bytes are in the generated code itself (static data, as <c>bpftool gen skeleton</c> does): nothing to ship beside it.</summary>
    Embedded,

    /// <summary>The manifest resource <c>bpf/NAME.bpf.o</c> of the skeleton's own assembly (BpfSharp.Build's <c>BpfEmbedObjects=true</c>).</summary>
    Resource,

    /// <summary>A file, by <see cref="SkeletonOptions.ObjectPath"/>; a relative path is taken from the application's base directory.</summary>
    File,
}

/// <summary>How <see cref="SkeletonGenerator"/> writes a skeleton.</summary>
public sealed class SkeletonOptions
{
    /// <summary>The namespace of the generated class; null for the global namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>The class name; null for the object's name in Pascal case followed by <c>Bpf</c> (<c>execsnoop.bpf.o</c> gives <c>ExecsnoopBpf</c>).</summary>
    public string? ClassName { get; init; }

    /// <summary>Whether the generated types are <c>internal</c> rather than <c>public</c>.</summary>
    public bool Internal { get; init; }

    /// <summary>
    /// Where the skeleton reads its object from: <see cref="SkeletonObjectSource.Resource"/> when
    /// <see cref="ResourceName"/> is set, <see cref="SkeletonObjectSource.File"/> when <see cref="ObjectPath"/> is,
    /// otherwise <see cref="SkeletonObjectSource.Embedded"/>.
    /// </summary>
    public SkeletonObjectSource ObjectSource =>
        ResourceName is not null ? SkeletonObjectSource.Resource : ObjectPath is not null ? SkeletonObjectSource.File : SkeletonObjectSource.Embedded;

    /// <summary>Read the object from a file: its path, relative to the application's base directory unless rooted.</summary>
    public string? ObjectPath { get; init; }

    /// <summary>Read the object from the manifest resource <c>bpf/NAME.bpf.o</c> of the skeleton's assembly: NAME.</summary>
    public string? ResourceName { get; init; }

    /// <summary>
    /// C types to declare in C# beyond those found by themselves (map keys and values, global variables, and the
    /// object's own structs, unions and enums): names of structs, unions, enums or typedefs in the object's BTF.
    /// </summary>
    public IReadOnlyList<string> Types { get; init; } = [];
}
