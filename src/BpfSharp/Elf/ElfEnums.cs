namespace BpfSharp.Elf;

/// <summary>The object file type (<c>e_type</c>).</summary>
public enum ElfType : ushort
{
    /// <summary><c>ET_NONE</c>.</summary>
    None = 0,
    /// <summary><c>ET_REL</c>: a relocatable object, as clang emits for BPF.</summary>
    Relocatable = 1,
    /// <summary><c>ET_EXEC</c>: an executable at a fixed address.</summary>
    Executable = 2,
    /// <summary><c>ET_DYN</c>: a shared object or position-independent executable.</summary>
    SharedObject = 3,
    /// <summary><c>ET_CORE</c>: a core dump.</summary>
    Core = 4,
}

/// <summary>The target architecture (<c>e_machine</c>); values not named here are still returned as numbers.</summary>
public enum ElfMachine : ushort
{
    /// <summary><c>EM_NONE</c>.</summary>
    None = 0,
    /// <summary><c>EM_386</c>.</summary>
    X86 = 3,
    /// <summary><c>EM_PPC64</c>.</summary>
    PowerPc64 = 21,
    /// <summary><c>EM_S390</c>.</summary>
    S390 = 22,
    /// <summary><c>EM_ARM</c>.</summary>
    Arm = 40,
    /// <summary><c>EM_X86_64</c>.</summary>
    X86_64 = 62,
    /// <summary><c>EM_AARCH64</c>.</summary>
    Aarch64 = 183,
    /// <summary><c>EM_RISCV</c>.</summary>
    RiscV = 243,
    /// <summary><c>EM_BPF</c>.</summary>
    Bpf = 247,
    /// <summary><c>EM_LOONGARCH</c>.</summary>
    LoongArch = 258,
}

/// <summary>A section's type (<c>sh_type</c>).</summary>
public enum ElfSectionType : uint
{
    /// <summary><c>SHT_NULL</c>: an unused header.</summary>
    Null = 0,
    /// <summary><c>SHT_PROGBITS</c>: code or data.</summary>
    ProgBits = 1,
    /// <summary><c>SHT_SYMTAB</c>: the full symbol table.</summary>
    SymbolTable = 2,
    /// <summary><c>SHT_STRTAB</c>: a string table.</summary>
    StringTable = 3,
    /// <summary><c>SHT_RELA</c>: relocations with explicit addends.</summary>
    RelocationsWithAddends = 4,
    /// <summary><c>SHT_HASH</c>: a symbol hash table.</summary>
    Hash = 5,
    /// <summary><c>SHT_DYNAMIC</c>: dynamic linking information.</summary>
    Dynamic = 6,
    /// <summary><c>SHT_NOTE</c>: notes.</summary>
    Note = 7,
    /// <summary><c>SHT_NOBITS</c>: zero-filled data that occupies no file space (.bss).</summary>
    NoBits = 8,
    /// <summary><c>SHT_REL</c>: relocations without addends.</summary>
    Relocations = 9,
    /// <summary><c>SHT_SHLIB</c>: reserved.</summary>
    SharedLibrary = 10,
    /// <summary><c>SHT_DYNSYM</c>: the dynamic symbol table.</summary>
    DynamicSymbolTable = 11,
    /// <summary><c>SHT_INIT_ARRAY</c>.</summary>
    InitArray = 14,
    /// <summary><c>SHT_FINI_ARRAY</c>.</summary>
    FiniArray = 15,
    /// <summary><c>SHT_PREINIT_ARRAY</c>.</summary>
    PreInitArray = 16,
    /// <summary><c>SHT_GROUP</c>: a section group.</summary>
    Group = 17,
    /// <summary><c>SHT_SYMTAB_SHNDX</c>: extended section indexes of a symbol table.</summary>
    SymbolTableSectionIndexes = 18,
    /// <summary><c>SHT_LLVM_ADDRSIG</c>: LLVM's address-significance table.</summary>
    LlvmAddressSignificance = 0x6fff4c03,
    /// <summary><c>SHT_GNU_HASH</c>.</summary>
    GnuHash = 0x6ffffff6,
    /// <summary><c>SHT_GNU_verdef</c>: symbol version definitions.</summary>
    GnuVersionDefinitions = 0x6ffffffd,
    /// <summary><c>SHT_GNU_verneed</c>: symbol version requirements.</summary>
    GnuVersionRequirements = 0x6ffffffe,
    /// <summary><c>SHT_GNU_versym</c>: the symbol version table.</summary>
    GnuVersionSymbols = 0x6fffffff,
}

/// <summary>A section's flags (<c>sh_flags</c>).</summary>
[Flags]
public enum ElfSectionFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary><c>SHF_WRITE</c>: writable at run time.</summary>
    Write = 0x1,
    /// <summary><c>SHF_ALLOC</c>: occupies memory at run time.</summary>
    Alloc = 0x2,
    /// <summary><c>SHF_EXECINSTR</c>: holds code.</summary>
    Executable = 0x4,
    /// <summary><c>SHF_MERGE</c>: mergeable entries.</summary>
    Merge = 0x10,
    /// <summary><c>SHF_STRINGS</c>: NUL-terminated strings.</summary>
    Strings = 0x20,
    /// <summary><c>SHF_INFO_LINK</c>: sh_info holds a section index.</summary>
    InfoLink = 0x40,
    /// <summary><c>SHF_LINK_ORDER</c>.</summary>
    LinkOrder = 0x80,
    /// <summary><c>SHF_GROUP</c>: member of a section group.</summary>
    Group = 0x200,
    /// <summary><c>SHF_TLS</c>: thread-local storage.</summary>
    ThreadLocal = 0x400,
    /// <summary><c>SHF_COMPRESSED</c>: compressed data.</summary>
    Compressed = 0x800,
}

/// <summary>A program header's (segment's) type (<c>p_type</c>).</summary>
public enum ElfSegmentType : uint
{
    /// <summary><c>PT_NULL</c>.</summary>
    Null = 0,
    /// <summary><c>PT_LOAD</c>: mapped into memory.</summary>
    Load = 1,
    /// <summary><c>PT_DYNAMIC</c>.</summary>
    Dynamic = 2,
    /// <summary><c>PT_INTERP</c>: the program interpreter's path.</summary>
    Interpreter = 3,
    /// <summary><c>PT_NOTE</c>.</summary>
    Note = 4,
    /// <summary><c>PT_SHLIB</c>.</summary>
    SharedLibrary = 5,
    /// <summary><c>PT_PHDR</c>: the program header table itself.</summary>
    ProgramHeaders = 6,
    /// <summary><c>PT_TLS</c>.</summary>
    ThreadLocal = 7,
    /// <summary><c>PT_GNU_EH_FRAME</c>.</summary>
    GnuEhFrame = 0x6474e550,
    /// <summary><c>PT_GNU_STACK</c>.</summary>
    GnuStack = 0x6474e551,
    /// <summary><c>PT_GNU_RELRO</c>.</summary>
    GnuRelro = 0x6474e552,
    /// <summary><c>PT_GNU_PROPERTY</c>.</summary>
    GnuProperty = 0x6474e553,
}

/// <summary>A segment's permissions (<c>p_flags</c>).</summary>
[Flags]
public enum ElfSegmentFlags : uint
{
    /// <summary>No access.</summary>
    None = 0,
    /// <summary><c>PF_X</c>.</summary>
    Execute = 1,
    /// <summary><c>PF_W</c>.</summary>
    Write = 2,
    /// <summary><c>PF_R</c>.</summary>
    Read = 4,
}

/// <summary>A symbol's type (low 4 bits of <c>st_info</c>).</summary>
public enum ElfSymbolType : byte
{
    /// <summary><c>STT_NOTYPE</c>.</summary>
    NoType = 0,
    /// <summary><c>STT_OBJECT</c>: a variable or other data (in BPF objects also maps).</summary>
    Object = 1,
    /// <summary><c>STT_FUNC</c>: a function.</summary>
    Function = 2,
    /// <summary><c>STT_SECTION</c>: the section itself.</summary>
    Section = 3,
    /// <summary><c>STT_FILE</c>: the source file name.</summary>
    File = 4,
    /// <summary><c>STT_COMMON</c>.</summary>
    Common = 5,
    /// <summary><c>STT_TLS</c>.</summary>
    ThreadLocal = 6,
    /// <summary><c>STT_GNU_IFUNC</c>: an indirect function.</summary>
    GnuIndirectFunction = 10,
}

/// <summary>A symbol's binding (high 4 bits of <c>st_info</c>).</summary>
public enum ElfSymbolBinding : byte
{
    /// <summary><c>STB_LOCAL</c>.</summary>
    Local = 0,
    /// <summary><c>STB_GLOBAL</c>.</summary>
    Global = 1,
    /// <summary><c>STB_WEAK</c>.</summary>
    Weak = 2,
    /// <summary><c>STB_GNU_UNIQUE</c>.</summary>
    GnuUnique = 10,
}

/// <summary>A symbol's visibility (low 2 bits of <c>st_other</c>).</summary>
public enum ElfSymbolVisibility : byte
{
    /// <summary><c>STV_DEFAULT</c>.</summary>
    Default = 0,
    /// <summary><c>STV_INTERNAL</c>.</summary>
    Internal = 1,
    /// <summary><c>STV_HIDDEN</c>.</summary>
    Hidden = 2,
    /// <summary><c>STV_PROTECTED</c>.</summary>
    Protected = 3,
}

/// <summary>Reserved section indexes a symbol can have (<c>SHN_*</c>).</summary>
public static class ElfSectionIndex
{
    /// <summary><c>SHN_UNDEF</c>: an undefined symbol (extern).</summary>
    public const uint Undefined = 0;
    /// <summary><c>SHN_ABS</c>: an absolute value.</summary>
    public const uint Absolute = 0xfff1;
    /// <summary><c>SHN_COMMON</c>: a common block.</summary>
    public const uint Common = 0xfff2;
    /// <summary><c>SHN_XINDEX</c>: the real index is in the SHT_SYMTAB_SHNDX section.</summary>
    public const uint ExtendedIndex = 0xffff;
    /// <summary><c>SHN_LORESERVE</c>: the first reserved index.</summary>
    public const uint LowReserved = 0xff00;
}
