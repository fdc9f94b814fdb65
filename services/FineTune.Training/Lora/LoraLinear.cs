using FineTune.Models;
using FineTune.Models.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Lora;

/// <summary>
/// A frozen Linear plus a low-rank update, as PEFT and litgpt define it:
/// y = base_layer(x) + lora_B(lora_A(dropout(x))) · scaling, with lora_A (r, in) Kaiming-uniform(a=√5) and lora_B (out, r) zero,
/// so training starts exactly at the base model. The LoRA weights stay FP32 whatever the base dtype (BF16 on CUDA):
/// the branch runs in FP32 and its result is cast to the base output's dtype.
/// Field names are the PEFT checkpoint keys (base_layer, lora_A, lora_B). The base is a plain Linear or, for QLoRA and
/// 8-bit bases, a <see cref="QuantizedLinear"/>.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the PEFT checkpoint keys
    private readonly nn.Module<Tensor, Tensor> base_layer;
    private readonly Linear lora_A;        // weight (r, in)
    private readonly Linear lora_B;        // weight (out, r)
    private readonly Dropout? lora_dropout;
#pragma warning restore IDE1006

    /// <param name="random">The generator lora_A is drawn from (null: torch's global one).</param>
    public LoraLinear(Linear baseLayer, int rank, double scaling, double dropout, Generator? random = null)
        : this(baseLayer, baseLayer.in_features, baseLayer.out_features, baseLayer.weight!.device, baseLayer.weight.dtype, rank, scaling, dropout, random)
    {
    }

    /// <param name="random">The generator lora_A is drawn from (null: torch's global one).</param>
    public LoraLinear(QuantizedLinear baseLayer, int rank, double scaling, double dropout, Generator? random = null)
        : this(baseLayer, baseLayer.InFeatures, baseLayer.OutFeatures, baseLayer.Device, baseLayer.StoredDType, rank, scaling, dropout, random)
    {
    }

    private LoraLinear(nn.Module<Tensor, Tensor> baseLayer, long inFeatures, long outFeatures, Device device, ScalarType baseDType,
        int rank, double scaling, double dropout, Generator? random) : base(nameof(LoraLinear))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(dropout);
        base_layer = baseLayer;
        Rank = rank;
        Scaling = scaling;
        LoraDType = baseDType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        lora_A = nn.Linear(inFeatures, rank, hasBias: false, device: device, dtype: LoraDType);
        lora_B = nn.Linear(rank, outFeatures, hasBias: false, device: device, dtype: LoraDType);
        using (no_grad())
        {
            InitializeA(lora_A.weight!, random);
            nn.init.zeros_(lora_B.weight!);
        }
        if (dropout > 0) lora_dropout = nn.Dropout(dropout);
        RegisterComponents();
        foreach (var p in base_layer.parameters()) p.requires_grad = false;
    }

    public int Rank { get; }

    /// <summary>FP32 (FP64 only when the base itself is FP64, for gradient checks).</summary>
    public ScalarType LoraDType { get; }

    public double Scaling { get; }

    /// <summary>True once B·A has been added into the base weight; the branch is then skipped.</summary>
    public bool Merged { get; private set; }

    /// <summary>The frozen base: a Linear, or a <see cref="QuantizedLinear"/>.</summary>
    public nn.Module<Tensor, Tensor> BaseLayer => base_layer;

    public Parameter LoraA => lora_A.weight!;

    public Parameter LoraB => lora_B.weight!;

    public override Tensor forward(Tensor x)
    {
        var y = base_layer.call(x);                                      // (..., out) in the base dtype
        if (Merged) return y;
        using var scope = NewDisposeScope();
        var h = x.dtype == LoraDType ? x : x.to(LoraDType);
        if (lora_dropout is not null) h = DropoutGenerator.Current is { } generator ? Dropout(h, generator) : lora_dropout.call(h);
        var down = lora_A.call(h);                                       // (..., r) in LoraDType
        if (y.dtype == ScalarType.Float32 && LoraDType == ScalarType.Float32 && y.is_contiguous())
        {
            // One GEMM adds the update into the base output: y + scaling · down · Bᵀ. Against B(down)·scaling + y it
            // saves two passes over the (..., out) activations forward and one backward (docs/benchmarks/training.md).
            var flat = addmm(y.reshape(-1, y.shape[^1]), down.reshape(-1, Rank), lora_B.weight!.t(), beta: 1, alpha: (float)Scaling);
            return flat.view(y.shape).MoveToOuterDisposeScope();
        }
        using var scaling = Scaling.ToScalar();                          // owned: alive until mul_ has returned
        var delta = lora_B.call(down).mul_(scaling);                     // (..., out), in LoraDType
        using var one = 1.0.ToScalar();                                  // add(Tensor) would pass an implicit, unowned alpha
        var result = y.add(delta.dtype == y.dtype ? delta : delta.to(y.dtype), one);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Kaiming-uniform with a = √5, as PEFT initialises lora_A and libtorch's kaiming_uniform_ computes it (gain
    /// √(2 / (1 + a²)), bound √3 · gain / √fan_in), drawn on the CPU from <paramref name="random"/> (torch's global
    /// generator when null), so that one seed gives the same A on every device.
    /// </summary>
    private static void InitializeA(Tensor weight, Generator? random)
    {
        var a = Math.Sqrt(5);
        var gain = Math.Sqrt(2.0 / (1 + a * a));
        var std = gain / Math.Sqrt(weight.shape[1]);
        var bound = Math.Sqrt(3.0) * std;
        if (weight.device_type == DeviceType.CPU)
        {
            weight.uniform_(-bound, bound, random);
            return;
        }
        using var values = empty(weight.shape, weight.dtype, CPU);
        values.uniform_(-bound, bound, random);
        weight.copy_(values);
    }

    /// <summary>Inverted dropout as nn.Dropout applies it in training (keep with 1 − p, scale by 1 / (1 − p)), from <paramref name="generator"/>.</summary>
    private Tensor Dropout(Tensor h, Generator generator)
    {
        if (!training) return h;
        using var p = lora_dropout!.p.ToScalar();
        using var keep = (1 - lora_dropout.p).ToScalar();
        var mask = rand(h.shape, dtype: h.dtype, device: h.device, generator: generator).ge_(p);
        return h.mul(mask).div_(keep);
    }

    /// <summary>ΔW = scaling · B·A (out, in), in LoraDType.</summary>
    public Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var scaling = Scaling.ToScalar();
        return lora_B.weight!.matmul(lora_A.weight!).mul_(scaling).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The plain Linear that replaces this layer after a merge: the base Linear with ΔW added in place, or, over a
    /// quantized base, a new Linear holding dequantize(W) + ΔW (the base is dequantized exactly once, here).
    /// </summary>
    public Linear ToMergedLinear()
    {
        if (base_layer is QuantizedLinear quantized)
        {
            using var delta = DeltaWeight();
            return quantized.ToLinear(delta);
        }
        Merge();
        return (Linear)base_layer;
    }

    /// <summary>Adds ΔW into the base weight (computed in FP32, stored in the base dtype). Idempotent. A quantized base
    /// cannot take ΔW in place: use <see cref="ToMergedLinear"/>.</summary>
    public void Merge()
    {
        if (Merged) return;
        if (base_layer is not Linear linear)
            throw new InvalidOperationException("a LoRA layer over a quantized base is merged with ToMergedLinear(), which dequantizes it");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = linear.weight!;
        using var one = 1.0.ToScalar();
        var merged = w.to(LoraDType).add(DeltaWeight(), one);
        w.copy_(merged.to(w.dtype));
        Merged = true;
    }
}
