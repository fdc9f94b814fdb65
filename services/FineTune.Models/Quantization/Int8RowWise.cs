using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// The 8-bit base: each output row of a weight (out, in) is stored as int8 with one FP32 scale, absmax / 127 (the
/// row-wise weight quantization of LLM.int8()). Activations stay in floating point: the weight is dequantized for the
/// matmul, so LLM.int8()'s outlier decomposition of activations is not needed. Written by hand; no .NET library does it.
/// </summary>
public sealed class Int8RowWise : IDisposable
{
    private Int8RowWise(Tensor values, Tensor scales)
    {
        Values = values;
        Scales = scales;
    }

    /// <summary>(out, in) int8.</summary>
    public Tensor Values { get; }

    /// <summary>(out,) FP32: absmax / 127 of each row.</summary>
    public Tensor Scales { get; }

    public long StorageBytes => Values.NumberOfElements + 4 * Scales.NumberOfElements;

    public static Int8RowWise Quantize(Tensor weight)
    {
        if (weight.dim() != 2) throw new ArgumentException($"int8 quantization takes a 2-D weight (got {weight.dim()}-D)", nameof(weight));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = weight.detach().to(ScalarType.Float32);
        var scales = w.abs().amax([1]).div_(127f);
        var values = (w / scales.clamp_min(float.Epsilon).unsqueeze(1)).round_().clamp_(-127, 127).to(ScalarType.Int8);
        return new Int8RowWise(values.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope());
    }

    public Tensor Dequantize(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return (Values.to(ScalarType.Float32) * Scales.unsqueeze(1)).to(dtype).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Values.Dispose();
        Scales.Dispose();
    }
}
