using System.Buffers.Binary;

namespace BpfSharp.Asm;

/// <summary>Converts between instructions and their 8-byte little-endian wire form (struct bpf_insn).</summary>
public static class InstructionEncoding
{
    /// <summary>Size of one instruction slot in bytes.</summary>
    public const int SlotSize = 8;

    /// <summary>Number of 8-byte slots the instructions occupy.</summary>
    public static int CountSlots(IEnumerable<Instruction> instructions) => instructions.Sum(i => i.Slots);

    /// <summary>Encodes instructions into the kernel's wire form.</summary>
    public static byte[] Encode(IReadOnlyList<Instruction> instructions)
    {
        byte[] bytes = new byte[CountSlots(instructions) * SlotSize];
        int offset = 0;
        foreach (Instruction instruction in instructions)
        {
            offset += Encode(instruction, bytes.AsSpan(offset));
        }
        return bytes;
    }

    /// <summary>Encodes one instruction; returns the number of bytes written (8 or 16).</summary>
    public static int Encode(Instruction instruction, Span<byte> destination)
    {
        if ((byte)instruction.Dst > 15 || (byte)instruction.Src > 15)
        {
            throw new ArgumentException($"register out of range in opcode 0x{instruction.OpCode:x2} (dst {(byte)instruction.Dst}, src {(byte)instruction.Src}): BPF has 16 register numbers", nameof(instruction));
        }
        // Only ld_imm64 holds 64 bits; elsewhere accept the signed or the unsigned view of 32 bits
        // and refuse anything wider rather than silently dropping its high half.
        if (!instruction.IsLoadImm64 && instruction.Constant is < int.MinValue or > uint.MaxValue)
        {
            throw new ArgumentException($"the immediate {instruction.Constant} of opcode 0x{instruction.OpCode:x2} does not fit in 32 bits", nameof(instruction));
        }
        if (destination.Length < instruction.Slots * SlotSize)
        {
            throw new ArgumentException($"{destination.Length} bytes cannot hold a {instruction.Slots * SlotSize}-byte instruction", nameof(destination));
        }
        destination[0] = instruction.OpCode;
        destination[1] = (byte)((byte)instruction.Dst | (byte)instruction.Src << 4);
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], instruction.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], unchecked((int)instruction.Constant));
        if (!instruction.IsLoadImm64)
        {
            return SlotSize;
        }
        // The second slot is all zero but for the high 32 bits of the constant.
        destination.Slice(8, 4).Clear();
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], unchecked((int)(instruction.Constant >> 32)));
        return 2 * SlotSize;
    }

    /// <summary>Decodes a sequence of instructions (a program section).</summary>
    /// <exception cref="FormatException">The length is not a multiple of 8, or an ld_imm64 is cut off.</exception>
    public static List<Instruction> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % SlotSize != 0)
        {
            throw new FormatException($"BPF code is {bytes.Length} bytes long, not a multiple of {SlotSize}");
        }
        var instructions = new List<Instruction>(bytes.Length / SlotSize);
        for (int offset = 0; offset < bytes.Length;)
        {
            Instruction instruction = Decode(bytes[offset..], out int size);
            instructions.Add(instruction);
            offset += size;
        }
        return instructions;
    }

    /// <summary>Decodes the instruction at the start of <paramref name="bytes"/>; <paramref name="size"/> is its length (8 or 16).</summary>
    /// <exception cref="FormatException">The bytes are truncated, or an ld_imm64's second slot is malformed.</exception>
    public static Instruction Decode(ReadOnlySpan<byte> bytes, out int size)
    {
        if (bytes.Length < SlotSize)
        {
            throw new FormatException("truncated BPF instruction");
        }
        byte opCode = bytes[0];
        long constant = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        size = SlotSize;
        if (opCode == 0x18)
        {
            if (bytes.Length < 2 * SlotSize)
            {
                throw new FormatException("truncated ld_imm64: its second slot is missing");
            }
            // The kernel rejects a second slot with anything but the high immediate set; so do we,
            // since such bytes are not an ld_imm64 but corruption.
            if (bytes[8] != 0 || bytes[9] != 0 || bytes[10] != 0 || bytes[11] != 0)
            {
                throw new FormatException("malformed ld_imm64: its second slot has a nonzero opcode, register or offset");
            }
            long high = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
            constant = (long)((ulong)(uint)constant | (ulong)high << 32);
            size = 2 * SlotSize;
        }
        return new Instruction
        {
            OpCode = opCode,
            Dst = (Register)(bytes[1] & 0x0f),
            Src = (Register)(bytes[1] >> 4),
            Offset = BinaryPrimitives.ReadInt16LittleEndian(bytes[2..]),
            Constant = constant,
        };
    }
}
