namespace FineTune.Formats.Safetensors;

/// <summary>Element types of the safetensors format, spelled as in the header's "dtype" field.</summary>
public enum SafetensorDType
{
    BOOL,
    U8,
    I8,
    F8_E4M3,
    F8_E5M2,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

public static class SafetensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafetensorDType dtype) => dtype switch
    {
        SafetensorDType.BOOL or SafetensorDType.U8 or SafetensorDType.I8
            or SafetensorDType.F8_E4M3 or SafetensorDType.F8_E5M2 => 1,
        SafetensorDType.I16 or SafetensorDType.U16 or SafetensorDType.F16 or SafetensorDType.BF16 => 2,
        SafetensorDType.I32 or SafetensorDType.U32 or SafetensorDType.F32 => 4,
        SafetensorDType.F64 or SafetensorDType.I64 or SafetensorDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The header spelling ("F32", "BF16", ...).</summary>
    public static string HeaderName(this SafetensorDType dtype) => dtype.ToString();

    /// <summary>Parses a header "dtype" value; exact, case-sensitive, as the format specifies.</summary>
    public static bool TryParse(string? text, out SafetensorDType dtype)
    {
        dtype = default;
        if (string.IsNullOrEmpty(text) || char.IsDigit(text[0])) return false;
        return Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);
    }

    /// <summary>Every dtype name the reader accepts, for error messages.</summary>
    public static string Supported => string.Join(", ", Enum.GetNames<SafetensorDType>());
}
