// Block geometry of the ggml tensor types we handle (ggml-common.h block structs), from
// shared/reference/gguf-ollama.md §2. Hand-written: no GGUF library exists for .NET.
namespace FineTune.Formats.Gguf;

/// <summary>Elements and bytes per block of a ggml type; byte sizes of rows and tensors.</summary>
public readonly record struct GgmlTypeInfo(GgmlType Type, int BlockElements, int BlockBytes)
{
    public static GgmlTypeInfo Of(GgmlType type) => type switch
    {
        GgmlType.F32 => new(type, 1, 4),
        GgmlType.F16 => new(type, 1, 2),
        GgmlType.BF16 => new(type, 1, 2),
        GgmlType.Q4_0 => new(type, 32, 18),   // fp16 d; u8 qs[16]
        GgmlType.Q5_0 => new(type, 32, 22),   // fp16 d; u8 qh[4]; u8 qs[16]
        GgmlType.Q8_0 => new(type, 32, 34),   // fp16 d; i8 qs[32]
        GgmlType.Q4_K => new(type, 256, 144), // fp16 d, dmin; u8 scales[12]; u8 qs[128]
        GgmlType.Q6_K => new(type, 256, 210), // u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d
        GgmlType.I8 => new(type, 1, 1),
        GgmlType.I16 => new(type, 1, 2),
        GgmlType.I32 => new(type, 1, 4),
        GgmlType.I64 => new(type, 1, 8),
        GgmlType.F64 => new(type, 1, 8),
        _ => throw new NotSupportedException($"ggml type {type} ({(uint)type}) is not supported by this GGUF implementation."),
    };

    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q6_K
        or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64 or GgmlType.F64;

    public bool IsQuantized => BlockElements > 1;

    /// <summary>Bytes of one row of <paramref name="rowElements"/> elements; the row length must be a whole number of blocks.</summary>
    public long RowBytes(long rowElements)
    {
        if (rowElements % BlockElements != 0)
            throw new ArgumentException($"Row length {rowElements} is not a multiple of {Type}'s block size {BlockElements}.");
        return rowElements / BlockElements * BlockBytes;
    }

    /// <summary>Bytes of a tensor whose ggml dims are <paramref name="ne"/> (fastest first).</summary>
    public long TensorBytes(IReadOnlyList<long> ne)
    {
        long rows = 1;
        for (var i = 1; i < ne.Count; i++) rows *= ne[i];
        return RowBytes(ne.Count == 0 ? 1 : ne[0]) * rows;
    }
}
