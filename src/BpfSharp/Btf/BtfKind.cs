namespace BpfSharp.Btf;

/// <summary>The kind of a BTF type (<c>BTF_KIND_*</c> in linux/btf.h).</summary>
public enum BtfKind : byte
{
    /// <summary>Type id 0: <c>void</c>. Never stored in a type section.</summary>
    Void = 0,
    /// <summary>An integer (<c>BTF_KIND_INT</c>), with encoding, bit offset and bit count.</summary>
    Int = 1,
    /// <summary>A pointer (<c>BTF_KIND_PTR</c>).</summary>
    Pointer = 2,
    /// <summary>An array (<c>BTF_KIND_ARRAY</c>): element type, index type, element count.</summary>
    Array = 3,
    /// <summary>A struct (<c>BTF_KIND_STRUCT</c>) with members.</summary>
    Struct = 4,
    /// <summary>A union (<c>BTF_KIND_UNION</c>) with members.</summary>
    Union = 5,
    /// <summary>An enum of 32-bit values (<c>BTF_KIND_ENUM</c>).</summary>
    Enum = 6,
    /// <summary>A forward declaration of a struct or union (<c>BTF_KIND_FWD</c>).</summary>
    Forward = 7,
    /// <summary>A typedef (<c>BTF_KIND_TYPEDEF</c>).</summary>
    Typedef = 8,
    /// <summary>The <c>volatile</c> qualifier (<c>BTF_KIND_VOLATILE</c>).</summary>
    Volatile = 9,
    /// <summary>The <c>const</c> qualifier (<c>BTF_KIND_CONST</c>).</summary>
    Const = 10,
    /// <summary>The <c>restrict</c> qualifier (<c>BTF_KIND_RESTRICT</c>).</summary>
    Restrict = 11,
    /// <summary>A function (<c>BTF_KIND_FUNC</c>): a name, a linkage and a prototype.</summary>
    Function = 12,
    /// <summary>A function prototype (<c>BTF_KIND_FUNC_PROTO</c>): return type and parameters.</summary>
    FunctionProto = 13,
    /// <summary>A global or static variable (<c>BTF_KIND_VAR</c>).</summary>
    Variable = 14,
    /// <summary>A data section such as <c>.data</c> or <c>.maps</c> (<c>BTF_KIND_DATASEC</c>).</summary>
    DataSection = 15,
    /// <summary>A floating point type (<c>BTF_KIND_FLOAT</c>).</summary>
    Float = 16,
    /// <summary>A <c>btf_decl_tag</c> attribute on a declaration (<c>BTF_KIND_DECL_TAG</c>).</summary>
    DeclTag = 17,
    /// <summary>A <c>btf_type_tag</c> attribute on a type (<c>BTF_KIND_TYPE_TAG</c>).</summary>
    TypeTag = 18,
    /// <summary>An enum of 64-bit values (<c>BTF_KIND_ENUM64</c>).</summary>
    Enum64 = 19,
}

/// <summary>Encoding bits of a <see cref="BtfKind.Int"/> (<c>BTF_INT_SIGNED</c>, <c>BTF_INT_CHAR</c>, <c>BTF_INT_BOOL</c>).</summary>
[Flags]
public enum BtfIntEncoding : byte
{
    /// <summary>Unsigned, not a character, not a boolean.</summary>
    None = 0,
    /// <summary>Signed.</summary>
    Signed = 1,
    /// <summary>A character type (for pretty-printing).</summary>
    Char = 2,
    /// <summary>A boolean.</summary>
    Bool = 4,
}

/// <summary>Linkage of a <see cref="BtfKind.Function"/> (<c>BTF_FUNC_*</c>).</summary>
public enum BtfFunctionLinkage : ushort
{
    /// <summary><c>static</c>: visible in its object only.</summary>
    Static = 0,
    /// <summary>Global: visible to other objects; the verifier checks it on its own.</summary>
    Global = 1,
    /// <summary>Declared here, defined elsewhere (<c>extern</c>).</summary>
    Extern = 2,
}

/// <summary>Linkage of a <see cref="BtfKind.Variable"/> (<c>BTF_VAR_*</c>).</summary>
public enum BtfVariableLinkage : uint
{
    /// <summary><c>static</c>.</summary>
    Static = 0,
    /// <summary>Global, allocated in this object.</summary>
    GlobalAllocated = 1,
    /// <summary>Declared here, defined elsewhere (<c>extern</c>).</summary>
    GlobalExtern = 2,
}

/// <summary>What a CO-RE relocation asks for (<c>enum bpf_core_relo_kind</c>).</summary>
public enum BtfCoreRelocationKind : uint
{
    /// <summary>Byte offset of a field.</summary>
    FieldByteOffset = 0,
    /// <summary>Byte size of a field.</summary>
    FieldByteSize = 1,
    /// <summary>Whether a field exists in the target kernel.</summary>
    FieldExists = 2,
    /// <summary>Whether a field is signed.</summary>
    FieldSigned = 3,
    /// <summary>Left shift needed to extract a bitfield.</summary>
    FieldLShiftU64 = 4,
    /// <summary>Right shift needed to extract a bitfield.</summary>
    FieldRShiftU64 = 5,
    /// <summary>The local type id.</summary>
    TypeIdLocal = 6,
    /// <summary>The matching type id in the target BTF.</summary>
    TypeIdTarget = 7,
    /// <summary>Whether the type exists in the target kernel.</summary>
    TypeExists = 8,
    /// <summary>Byte size of the type in the target kernel.</summary>
    TypeSize = 9,
    /// <summary>Whether an enumerator exists in the target kernel.</summary>
    EnumValueExists = 10,
    /// <summary>The value of an enumerator in the target kernel.</summary>
    EnumValue = 11,
    /// <summary>Whether the type matches the target's shape (<c>bpf_core_type_matches</c>).</summary>
    TypeMatches = 12,
}
