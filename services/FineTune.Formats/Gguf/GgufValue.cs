// A typed GGUF metadata value (scalar, string or array), as the writer emits it and the reader returns it.
namespace FineTune.Formats.Gguf;

/// <summary>
/// One metadata value. Scalars hold the matching CLR type (uint for UInt32, float for Float32, bool, string, …);
/// arrays hold a CLR array of the element type (<c>string[]</c>, <c>int[]</c>, <c>float[]</c>, …) or
/// <c>GgufValue[]</c> for nested arrays, with <see cref="ElementType"/> set.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType? ElementType = null)
{
    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v);
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, v);
    public static GgufValue Strings(IEnumerable<string> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.String);
    public static GgufValue Int32s(IEnumerable<int> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.Int32);
    public static GgufValue Float32s(IEnumerable<float> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.Float32);

    public string AsString() => Type == GgufValueType.String ? (string)Value : throw WrongType(GgufValueType.String);
    public uint AsUInt32() => Type == GgufValueType.UInt32 ? (uint)Value : throw WrongType(GgufValueType.UInt32);
    public float AsFloat32() => Type == GgufValueType.Float32 ? (float)Value : throw WrongType(GgufValueType.Float32);
    public bool AsBool() => Type == GgufValueType.Bool ? (bool)Value : throw WrongType(GgufValueType.Bool);
    public T[] AsArray<T>() => Type == GgufValueType.Array && Value is T[] a ? a : throw new InvalidOperationException($"GGUF value is {Describe()}, not an array of {typeof(T).Name}.");

    public string Describe() => Type == GgufValueType.Array ? $"array of {ElementType}" : Type.ToString();

    private InvalidOperationException WrongType(GgufValueType expected) => new($"GGUF value has type {Describe()}, expected {expected}.");
}
