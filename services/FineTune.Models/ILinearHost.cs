using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>A module whose projections can be swapped in place (LoRA injection keeps the field and the checkpoint path).</summary>
public interface ILinearHost
{
    nn.Module<Tensor, Tensor> GetLinear(string name);

    void SetLinear(string name, nn.Module<Tensor, Tensor> module);

    /// <summary>Replaces the registered submodule so parameters(), state_dict() and to() see the new one.</summary>
    internal static void Reregister(nn.Module host, string name, nn.Module module)
    {
        host.register_module(name, null!);
        host.register_module(name, module);
    }
}
