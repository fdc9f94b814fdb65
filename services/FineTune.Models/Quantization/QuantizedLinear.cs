using FineTune.Contracts.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// A frozen Linear whose weight is stored quantized (NF4 or int8) and dequantized, layer by layer, for each matmul,
/// as bitsandbytes' Linear4bit / Linear8bitLt do: only one layer's full-precision weight exists at a time, in forward and
/// again in backward (<see cref="DequantizingMatmul"/>). The bias, when present, stays in full precision. Nothing here is
/// trainable.
/// </summary>
public sealed class QuantizedLinear : nn.Module<Tensor, Tensor>
{
    private readonly Nf4Tensor? nf4;
    private readonly Int8RowWise? int8;
    private readonly Tensor? biasValue;

    public QuantizedLinear(Linear linear, BaseQuantization quantization)
        : this((linear ?? throw new ArgumentNullException(nameof(linear))).weight!, linear.bias, quantization)
    {
    }

    /// <summary>
    /// Quantizes <paramref name="weight"/> (out, in) as it is, in its own dtype and on its own device: the loader
    /// passes each checkpoint tensor here, already cast to the model's dtype, so no Linear is ever built for it.
    /// The bias, when given, is copied.
    /// </summary>
    public QuantizedLinear(Tensor weight, Tensor? bias, BaseQuantization quantization) : base(nameof(QuantizedLinear))
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(quantization);
        if (!quantization.IsQuantized) throw new ArgumentException("quantization is none", nameof(quantization));
        if (weight.dim() != 2) throw new ArgumentException($"a Linear weight is 2-D (out, in), got {weight.dim()}-D", nameof(weight));
        InFeatures = weight.shape[1];
        OutFeatures = weight.shape[0];
        StoredDType = weight.dtype;
        ComputeDType = quantization.ComputeDType;
        Quantization = quantization;
        if (quantization.Kind == QuantizationKind.Nf4) nf4 = Nf4.Quantize(weight, quantization.BlockSize, quantization.DoubleQuant);
        else int8 = Int8RowWise.Quantize(weight);
        biasValue = bias?.detach().clone();
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>The dtype the weight had before quantization (what a merge writes back).</summary>
    public ScalarType StoredDType { get; }

    public ScalarType? ComputeDType { get; }

    public BaseQuantization Quantization { get; }

    public Device Device => (nf4?.Packed ?? int8!.Values).device;

    public bool HasBias => biasValue is not null;

    /// <summary>The NF4 storage (codes and block scales); null for an int8 base.</summary>
    public Nf4Tensor? Nf4Weight => nf4;

    /// <summary>The int8 storage (values and row scales); null for an NF4 base.</summary>
    public Int8RowWise? Int8Weight => int8;

    /// <summary>Bytes of the quantized weight (codes and scales; bias excluded).</summary>
    public long StorageBytes => nf4?.StorageBytes ?? int8!.StorageBytes;

    /// <summary>The weight dequantized to <paramref name="dtype"/>: the one place quantized values become floats again.</summary>
    public Tensor DequantizeWeight(ScalarType dtype) => nf4 is not null ? nf4.Dequantize(dtype) : int8!.Dequantize(dtype);

    /// <summary>
    /// The weight for one matmul that keeps nothing of it: an NF4 weight on the CPU in FP32 lands in a rented, reused
    /// scratch buffer (<see cref="MatmulScratch"/>), so a step does not allocate and fault in a fresh
    /// full-precision copy per layer and pass; otherwise <see cref="DequantizeWeight"/>.
    /// </summary>
    internal MatmulWeight DequantizeForMatmul(ScalarType dtype) =>
        nf4 is not null && dtype == ScalarType.Float32 && Device.type == DeviceType.CPU
            ? new MatmulWeight(nf4.DequantizeToScratch(), nf4.Shape)
            : new MatmulWeight(DequantizeWeight(dtype));

    public Tensor? Bias(ScalarType dtype) => biasValue?.to(dtype);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var dtype = ComputeDType ?? x.dtype;
        var input = x.dtype == dtype ? x : x.to(dtype);
        var y = DequantizingMatmul.Apply(this, input, dtype);
        return (y.dtype == x.dtype ? y : y.to(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>A plain Linear holding <c>dequantize(W) + delta</c> in <see cref="StoredDType"/>; the sum is taken in FP32.</summary>
    public Linear ToLinear(Tensor? delta = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = DequantizeWeight(ScalarType.Float32);
        using var one = 1L.ToScalar();   // owned: an implicit alpha Scalar is freed by a finalizer
        if (delta is not null) w = w.add(delta.to(ScalarType.Float32), one);
        var linear = nn.Linear(InFeatures, OutFeatures, hasBias: HasBias, device: Device, dtype: StoredDType);
        linear.weight!.copy_(w.to(StoredDType));
        if (biasValue is not null) linear.bias!.copy_(biasValue);
        foreach (var p in linear.parameters()) p.requires_grad = false;
        return linear;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            nf4?.Dispose();
            int8?.Dispose();
            biasValue?.Dispose();
        }
        base.Dispose(disposing);
    }
}
