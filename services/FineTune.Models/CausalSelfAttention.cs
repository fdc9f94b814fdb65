using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>Grouped-query self-attention with rotary embeddings; q/k/v/o projections are swappable (LoRA).</summary>
public sealed class CausalSelfAttention : nn.Module, ILinearHost
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private nn.Module<Tensor, Tensor> q_proj;
    private nn.Module<Tensor, Tensor> k_proj;
    private nn.Module<Tensor, Tensor> v_proj;
    private nn.Module<Tensor, Tensor> o_proj;
#pragma warning restore IDE1006
    private readonly int _nHead;
    private readonly int _nKv;
    private readonly int _headDim;

    public CausalSelfAttention(ModelConfig c, Device? device, ScalarType dtype) : base(nameof(CausalSelfAttention))
    {
        _nHead = c.NumAttentionHeads;
        _nKv = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        var qkvBias = c.QkvBias || c.AttentionBias;
        q_proj = nn.Linear(c.HiddenSize, _nHead * _headDim, qkvBias, device, dtype);
        k_proj = nn.Linear(c.HiddenSize, _nKv * _headDim, qkvBias, device, dtype);
        v_proj = nn.Linear(c.HiddenSize, _nKv * _headDim, qkvBias, device, dtype);
        o_proj = nn.Linear(_nHead * _headDim, c.HiddenSize, c.AttentionBias, device, dtype);
        RegisterComponents();
    }

    public static readonly IReadOnlyList<string> LinearNames = ["q_proj", "k_proj", "v_proj", "o_proj"];

    /// <param name="x">(B, T, C)</param>
    /// <param name="cos">(B, T, hs)</param>
    /// <param name="sin">(B, T, hs)</param>
    /// <param name="mask">Causal/segment/window mask.</param>
    /// <param name="cache">Optional KV cache and this layer's index in it.</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, AttentionMask mask, KVCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = q_proj.call(x).view(b, t, _nHead, _headDim).transpose(1, 2); // (B, nh, T, hs)
        var k = k_proj.call(x).view(b, t, _nKv, _headDim).transpose(1, 2);   // (B, nkv, T, hs)
        var v = v_proj.call(x).view(b, t, _nKv, _headDim).transpose(1, 2);   // (B, nkv, T, hs)
        q = Rope.Apply(q, cos, sin);
        k = Rope.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);           // (B, nkv, S, hs)
        if (_nKv != _nHead)
        {
            k = repeat_interleave(k, _nHead / _nKv, dim: 1);                    // (B, nh, S, hs)
            v = repeat_interleave(v, _nHead / _nKv, dim: 1);
        }
        var y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask.Mask, is_casual: mask.IsCausal); // (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(b, t, _nHead * _headDim);              // (B, T, nh*hs)
        return o_proj.call(y).MoveToOuterDisposeScope();                      // (B, T, C)
    }

    public nn.Module<Tensor, Tensor> GetLinear(string name) => name switch
    {
        "q_proj" => q_proj,
        "k_proj" => k_proj,
        "v_proj" => v_proj,
        "o_proj" => o_proj,
        _ => throw new KeyNotFoundException($"self_attn has no projection '{name}' (has {string.Join(", ", LinearNames)})"),
    };

    public void SetLinear(string name, nn.Module<Tensor, Tensor> module)
    {
        _ = GetLinear(name);
        switch (name)
        {
            case "q_proj": q_proj = module; break;
            case "k_proj": k_proj = module; break;
            case "v_proj": v_proj = module; break;
            default: o_proj = module; break;
        }
        ILinearHost.Reregister(this, name, module);
    }
}
