using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, ILinearHost
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private nn.Module<Tensor, Tensor> gate_proj;
    private nn.Module<Tensor, Tensor> up_proj;
    private nn.Module<Tensor, Tensor> down_proj;
#pragma warning restore IDE1006

    public Mlp(ModelConfig c, Device? device, ScalarType dtype) : base(nameof(Mlp))
    {
        gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
        up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
        down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, c.MlpBias, device, dtype);
        RegisterComponents();
    }

    public static readonly IReadOnlyList<string> LinearNames = ["gate_proj", "up_proj", "down_proj"];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(gate_proj.call(x)).mul(up_proj.call(x));  // (B, T, I)
        return down_proj.call(h).MoveToOuterDisposeScope();                  // (B, T, C)
    }

    public nn.Module<Tensor, Tensor> GetLinear(string name) => name switch
    {
        "gate_proj" => gate_proj,
        "up_proj" => up_proj,
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
            default: down_proj = module; break;
        }
        ILinearHost.Reregister(this, name, module);
    }
}
