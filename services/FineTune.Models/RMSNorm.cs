using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>
/// Root-mean-square layer norm, computed in float32 whatever the activations' dtype (as HF and litgpt do).
/// With <c>unitOffset</c> (Gemma) the stored weight w scales by (1 + w), in float32, and starts at 0.
/// </summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;
    private readonly bool _unitOffset;

    public RMSNorm(long size, double eps, Device? device = null, ScalarType dtype = ScalarType.Float32, bool unitOffset = false)
        : base(nameof(RMSNorm))
    {
        weight = nn.Parameter(unitOffset ? zeros(size, dtype: dtype, device: device) : ones(size, dtype: dtype, device: device));
        _eps = eps;
        _unitOffset = unitOffset;
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>Whether the weight is applied as (1 + w).</summary>
    public bool UnitOffset => _unitOffset;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.to_type(ScalarType.Float32);                           // (..., C)
        using var two = 2L.ToScalar();                                    // owned Scalars: an implicit one is freed by a
        using var eps = _eps.ToScalar();                                  // finalizer that may run while libtorch reads it
        using var one = 1L.ToScalar();                                    // (also add's alpha: its one-argument form makes one)
        var rms = rsqrt(xf.pow(two).mean([-1], keepdim: true).add_(eps, one)); // (..., 1)
        if (_unitOffset)                                                  // not in place: w must stay in the graph
            return xf.mul(rms).mul(weight.to_type(ScalarType.Float32).add(one, one)).to_type(x.dtype).MoveToOuterDisposeScope();
        return weight.mul(xf.mul(rms).to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
