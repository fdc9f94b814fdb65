namespace FineTune.Formats.Safetensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's key, e.g. "model.layers.0.self_attn.q_proj.weight".</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="DataOffset">Start of the tensor's bytes, relative to the start of the data section.</param>
/// <param name="ByteLength">Number of bytes (= element count × element size).</param>
public sealed record SafetensorInfo(string Name, SafetensorDType DType, long[] Shape, long DataOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public override string ToString() => $"{Name} {DType}[{string.Join(", ", Shape)}]";
}
