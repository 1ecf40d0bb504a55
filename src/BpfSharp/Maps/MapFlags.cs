namespace BpfSharp.Maps;

/// <summary>Flags for creating a map (the <c>BPF_F_*</c> values of <c>map_flags</c> in <c>BPF_MAP_CREATE</c>).</summary>
[Flags]
public enum MapFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary><c>BPF_F_NO_PREALLOC</c>: allocate hash elements on demand instead of up front (required by LPM tries and local storage maps).</summary>
    NoPrealloc = 1u << 0,
    /// <summary><c>BPF_F_NO_COMMON_LRU</c>: an LRU hash keeps one LRU list per CPU instead of one shared list.</summary>
    NoCommonLru = 1u << 1,
    /// <summary><c>BPF_F_NUMA_NODE</c>: allocate on <see cref="MapSpec.NumaNode"/>.</summary>
    NumaNode = 1u << 2,
    /// <summary><c>BPF_F_RDONLY</c>: user space may only read the map through this descriptor.</summary>
    ReadOnly = 1u << 3,
    /// <summary><c>BPF_F_WRONLY</c>: user space may only write the map through this descriptor.</summary>
    WriteOnly = 1u << 4,
    /// <summary><c>BPF_F_STACK_BUILD_ID</c>: a stack trace map stores build id and offset instead of addresses.</summary>
    StackBuildId = 1u << 5,
    /// <summary><c>BPF_F_ZERO_SEED</c>: hash with a zero seed, for reproducible tests only.</summary>
    ZeroSeed = 1u << 6,
    /// <summary><c>BPF_F_RDONLY_PROG</c>: programs may only read the map.</summary>
    ReadOnlyProgram = 1u << 7,
    /// <summary><c>BPF_F_WRONLY_PROG</c>: programs may only write the map.</summary>
    WriteOnlyProgram = 1u << 8,
    /// <summary><c>BPF_F_CLONE</c>: socket storage is cloned from a listener to accepted sockets.</summary>
    Clone = 1u << 9,
    /// <summary><c>BPF_F_MMAPABLE</c>: an array (or arena) that user space can mmap.</summary>
    Mmapable = 1u << 10,
    /// <summary><c>BPF_F_PRESERVE_ELEMS</c>: a perf event array keeps its events when the creating descriptor closes.</summary>
    PreserveElems = 1u << 11,
    /// <summary><c>BPF_F_INNER_MAP</c>: an inner map template whose max_entries may differ between inner maps.</summary>
    InnerMap = 1u << 12,
    /// <summary><c>BPF_F_LINK</c>: a struct_ops map registered through a BPF link.</summary>
    Link = 1u << 13,
    /// <summary><c>BPF_F_PATH_FD</c>: pin and get paths are relative to a directory descriptor.</summary>
    PathFd = 1u << 14,
    /// <summary><c>BPF_F_VTYPE_BTF_OBJ_FD</c>: <see cref="MapSpec.ValueTypeBtfObject"/> is set (set automatically).</summary>
    VtypeBtfObjFd = 1u << 15,
    /// <summary><c>BPF_F_TOKEN_FD</c>: <see cref="MapSpec.Token"/> is set (set automatically).</summary>
    TokenFd = 1u << 16,
    /// <summary><c>BPF_F_SEGV_ON_FAULT</c>: a user page fault in an arena raises SIGSEGV instead of allocating a page.</summary>
    SegvOnFault = 1u << 17,
    /// <summary><c>BPF_F_NO_USER_CONV</c>: do not translate arena pointers to user addresses.</summary>
    NoUserConv = 1u << 18,
    /// <summary><c>BPF_F_RB_OVERWRITE</c>: a ring buffer overwrites the oldest records when full (newer kernels).</summary>
    RingBufferOverwrite = 1u << 19,
}

/// <summary>How an element update treats an existing key (<c>BPF_ANY</c>, <c>BPF_NOEXIST</c>, <c>BPF_EXIST</c>, <c>BPF_F_LOCK</c>).</summary>
[Flags]
public enum UpdateFlags : ulong
{
    /// <summary><c>BPF_ANY</c>: create the element or replace it.</summary>
    Any = 0,
    /// <summary><c>BPF_NOEXIST</c>: create only; fails with EEXIST when the key is present.</summary>
    NoExist = 1,
    /// <summary><c>BPF_EXIST</c>: replace only; fails with ENOENT when the key is absent. For queues and stacks: overwrite the oldest element when full.</summary>
    Exist = 2,
    /// <summary>
    /// <c>BPF_F_LOCK</c>: copy the value while holding its <c>struct bpf_spin_lock</c> (the map's
    /// value type, described by BTF, must contain one). Combines with the other flags; also valid for lookups.
    /// </summary>
    Lock = 4,
}
