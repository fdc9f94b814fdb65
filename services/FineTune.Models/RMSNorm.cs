using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>Root-mean-square layer norm, computed in float32 whatever the activations' dtype (as HF and litgpt do).</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;

    public RMSNorm(long size, double eps, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(RMSNorm))
    {
        weight = nn.Parameter(ones(size, dtype: dtype, device: device));
        _eps = eps;
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.to_type(ScalarType.Float32);                           // (..., C)
        using var two = 2L.ToScalar();                                    // owned Scalars: an implicit one is freed by a
        using var eps = _eps.ToScalar();                                  // finalizer that may run while libtorch reads it
        var rms = rsqrt(xf.pow(two).mean([-1], keepdim: true).add_(eps)); // (..., 1)
        return weight.mul(xf.mul(rms).to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
