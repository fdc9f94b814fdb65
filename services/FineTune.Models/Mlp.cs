using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Gated feed-forward: down(act(gate(x)) * up(x)) with SiLU (SwiGLU) or, for Gemma, tanh-approximated GELU (GeGLU).
/// Phi-3 keeps gate and up in one <c>gate_up_proj</c> whose first half of outputs is the gate.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, ILinearHost
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private nn.Module<Tensor, Tensor>? gate_proj;
    private nn.Module<Tensor, Tensor>? up_proj;
    private nn.Module<Tensor, Tensor>? gate_up_proj;
    private nn.Module<Tensor, Tensor> down_proj;
#pragma warning restore IDE1006
    private readonly long _intermediate;
    private readonly bool _gelu;

    /// <param name="projectionDevice">Where the Linears are built (default: <paramref name="device"/>).</param>
    public Mlp(ModelConfig c, Device? device, ScalarType dtype, Device? projectionDevice = null) : base(nameof(Mlp))
    {
        device = projectionDevice ?? device;   // the block has no other parameters
        _intermediate = c.IntermediateSize;
        _gelu = c.HiddenAct == "gelu_pytorch_tanh";
        if (c.Fused)
            gate_up_proj = nn.Linear(c.HiddenSize, 2 * c.IntermediateSize, c.MlpBias, device, dtype);
        else
        {
            gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
            up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
        }
        down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, c.MlpBias, device, dtype);
        LinearNames = c.Fused ? ["gate_up_proj", "down_proj"] : ["gate_proj", "up_proj", "down_proj"];
        RegisterComponents();
    }

    /// <summary>The projections of the unfused families.</summary>
    public static readonly IReadOnlyList<string> UnfusedLinearNames = ["gate_proj", "up_proj", "down_proj"];

    /// <summary>This block's projections, by checkpoint name.</summary>
    public IReadOnlyList<string> LinearNames { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor gate, up;
        if (gate_up_proj is null) (gate, up) = (gate_proj!.call(x), up_proj!.call(x));      // (B, T, I) each
        else
        {
            var both = gate_up_proj.call(x);                                                  // (B, T, 2I)
            (gate, up) = (both.narrow(-1, 0, _intermediate), both.narrow(-1, _intermediate, _intermediate));
        }
        var h = Activate(gate).mul(up);                                                       // (B, T, I)
        return down_proj.call(h).MoveToOuterDisposeScope();                                   // (B, T, C)
    }

    /// <summary>SiLU, or GELU with the tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private Tensor Activate(Tensor x)
    {
        if (!_gelu) return nn.functional.silu(x);
        // Owned Scalars (docs/training.md, "The optimizer's native crash"): an implicit one is freed by a finalizer.
        using var three = 3L.ToScalar();
        using var cubic = 0.044715.ToScalar();
        using var root = Math.Sqrt(2 / Math.PI).ToScalar();
        using var half = 0.5.ToScalar();
        using var one = 1L.ToScalar();
        var inner = x.add(x.pow(three).mul(cubic), one).mul(root);
        return x.mul(half).mul(inner.tanh().add(one, one));
    }

    public nn.Module<Tensor, Tensor> GetLinear(string name) => (LinearNames.Contains(name) ? name : "") switch
    {
        "gate_proj" => gate_proj!,
        "up_proj" => up_proj!,
        "gate_up_proj" => gate_up_proj!,
        "down_proj" => down_proj,
        _ => throw new KeyNotFoundException($"mlp has no projection '{name}' (has {string.Join(", ", LinearNames)})"),
    };

    public void SetLinear(string name, nn.Module<Tensor, Tensor> module)
    {
        _ = GetLinear(name);
        switch (name)
        {
            case "gate_proj": gate_proj = module; break;
            case "up_proj": up_proj = module; break;
            case "gate_up_proj": gate_up_proj = module; break;
            default: down_proj = module; break;
        }
        ILinearHost.Reregister(this, name, module);
    }
}
