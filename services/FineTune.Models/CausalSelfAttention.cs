using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Grouped-query self-attention with rotary embeddings; the projections are swappable (LoRA). Family switches:
/// one fused <c>qkv_proj</c> (Phi-3) instead of q/k/v_proj, per-head <c>q_norm</c>/<c>k_norm</c> before RoPE
/// (Qwen3, Gemma 3), and Gemma's query_pre_attn_scalar in place of head_dim in the score scale.
/// </summary>
public sealed class CausalSelfAttention : nn.Module, ILinearHost
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private nn.Module<Tensor, Tensor>? q_proj;
    private nn.Module<Tensor, Tensor>? k_proj;
    private nn.Module<Tensor, Tensor>? v_proj;
    private nn.Module<Tensor, Tensor>? qkv_proj;
    private nn.Module<Tensor, Tensor> o_proj;
    private readonly RMSNorm? q_norm;
    private readonly RMSNorm? k_norm;
#pragma warning restore IDE1006
    private readonly int _nHead;
    private readonly int _nKv;
    private readonly int _headDim;
    private readonly double _queryScale;

    /// <param name="projectionDevice">Where the Linears are built (default: <paramref name="device"/>); q_norm and k_norm stay on <paramref name="device"/>.</param>
    public CausalSelfAttention(ModelConfig c, Device? device, ScalarType dtype, Device? projectionDevice = null) : base(nameof(CausalSelfAttention))
    {
        var linearDevice = projectionDevice ?? device;
        _nHead = c.NumAttentionHeads;
        _nKv = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        var qkvBias = c.QkvBias || c.AttentionBias;
        if (c.Fused)
            qkv_proj = nn.Linear(c.HiddenSize, (_nHead + 2 * _nKv) * _headDim, qkvBias, linearDevice, dtype);
        else
        {
            q_proj = nn.Linear(c.HiddenSize, _nHead * _headDim, qkvBias, linearDevice, dtype);
            k_proj = nn.Linear(c.HiddenSize, _nKv * _headDim, qkvBias, linearDevice, dtype);
            v_proj = nn.Linear(c.HiddenSize, _nKv * _headDim, qkvBias, linearDevice, dtype);
        }
        o_proj = nn.Linear(_nHead * _headDim, c.HiddenSize, c.AttentionBias, linearDevice, dtype);
        if (c.QkNorm)
        {
            q_norm = new RMSNorm(_headDim, c.RmsNormEps, device, dtype, unitOffset: c.Gemma);
            k_norm = new RMSNorm(_headDim, c.RmsNormEps, device, dtype, unitOffset: c.Gemma);
        }
        // SDPA scales by 1/√head_dim; a different scalar is applied to q first.
        _queryScale = c.QueryPreAttnScalar is { } s ? Math.Sqrt(_headDim / s) : 1;
        LinearNames = c.Fused ? ["qkv_proj", "o_proj"] : ["q_proj", "k_proj", "v_proj", "o_proj"];
        RegisterComponents();
    }

    /// <summary>The projections of the unfused families (Llama, Qwen, Mistral, Gemma).</summary>
    public static readonly IReadOnlyList<string> UnfusedLinearNames = ["q_proj", "k_proj", "v_proj", "o_proj"];

    /// <summary>This block's projections, by checkpoint name.</summary>
    public IReadOnlyList<string> LinearNames { get; }

    /// <param name="x">(B, T, C)</param>
    /// <param name="cos">(B, T, hs)</param>
    /// <param name="sin">(B, T, hs)</param>
    /// <param name="mask">Causal/segment/window mask.</param>
    /// <param name="cache">Optional KV cache and this layer's index in it.</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, AttentionMask mask, KVCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        var (q, k, v) = Project(x);                                           // (B, T, n*hs) each
        q = q.view(b, t, _nHead, _headDim);
        k = k.view(b, t, _nKv, _headDim);
        if (q_norm is not null) (q, k) = (q_norm.call(q), k_norm!.call(k));   // per head, over hs
        q = q.transpose(1, 2);                                                // (B, nh, T, hs)
        k = k.transpose(1, 2);                                                // (B, nkv, T, hs)
        v = v.view(b, t, _nKv, _headDim).transpose(1, 2);                     // (B, nkv, T, hs)
        q = Rope.Apply(q, cos, sin);
        k = Rope.Apply(k, cos, sin);
        if (_queryScale != 1)
        {
            using var queryScale = _queryScale.ToScalar();   // owned: an implicit Scalar is freed by a finalizer
            q = q.mul(queryScale);
        }
        if (cache is not null) (k, v) = cache.Append(layer, k, v);           // (B, nkv, S, hs)
        if (_nKv != _nHead)
        {
            k = repeat_interleave(k, _nHead / _nKv, dim: 1);                    // (B, nh, S, hs)
            v = repeat_interleave(v, _nHead / _nKv, dim: 1);
        }
        var y = BlockedCausalAttention.Applies(q, k, cache, training)                  // (B, nh, T, hs)
            ? BlockedCausalAttention.Apply(q, k, v, mask.Mask)
            : nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask.Mask, is_casual: mask.IsCausal);
        y = y.transpose(1, 2).reshape(b, t, _nHead * _headDim);              // (B, T, nh*hs)
        return o_proj.call(y).MoveToOuterDisposeScope();                      // (B, T, C)
    }

    /// <summary>q (B, T, nh·hs), k and v (B, T, nkv·hs): three projections, or one fused one split in that order.</summary>
    private (Tensor Q, Tensor K, Tensor V) Project(Tensor x)
    {
        if (qkv_proj is null) return (q_proj!.call(x), k_proj!.call(x), v_proj!.call(x));
        var parts = qkv_proj.call(x).split([_nHead * _headDim, _nKv * _headDim, _nKv * _headDim], -1);
        return (parts[0], parts[1], parts[2]);
    }

    public nn.Module<Tensor, Tensor> GetLinear(string name) => (LinearNames.Contains(name) ? name : "") switch
    {
        "q_proj" => q_proj!,
        "k_proj" => k_proj!,
        "v_proj" => v_proj!,
        "qkv_proj" => qkv_proj!,
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
            case "qkv_proj": qkv_proj = module; break;
            default: o_proj = module; break;
        }
        ILinearHost.Reregister(this, name, module);
    }
}
