// GGUF v3 constants, written by hand from the GGUF specification (ggml docs/gguf.md, include/gguf.h,
// include/ggml.h, include/llama.h) as summarised in shared/reference/gguf-ollama.md §1–2.
// Data only: the writer, reader and quantizers live in their own files.
namespace FineTune.Formats.Gguf;

/// <summary>File-level constants of the GGUF container.</summary>
public static class GgufConstants
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The only version we write and read.</summary>
    public const uint Version = 3;

    /// <summary>Alignment used when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>llama.cpp rejects names whose length is &gt;= GGML_MAX_NAME (64).</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>GGML_MAX_DIMS.</summary>
    public const int MaxDims = 4;

    /// <summary>GGML_QNT_VERSION, written as <c>general.quantization_version</c> when any tensor is quantized.</summary>
    public const uint QuantizationVersion = 2;
}

/// <summary>Metadata value type codes (gguf_type).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Tensor element types (ggml_type); only the ones we write or read carry block math here.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary><c>general.file_type</c>: the llama_ftype enum (not ggml_type).</summary>
public enum LlamaFileType : uint
{
    AllF32 = 0,
    MostlyF16 = 1,
    MostlyQ4_0 = 2,
    MostlyQ8_0 = 7,
    MostlyQ4_K_S = 14,
    MostlyQ4_K_M = 15,
    MostlyQ6_K = 18,
    MostlyBF16 = 32,
}

/// <summary><c>tokenizer.ggml.token_type</c> codes.</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
