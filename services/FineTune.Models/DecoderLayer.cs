using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)). Gemma normalises both sides of each
/// sub-block ("sandwich"): h = x + post_attention_layernorm(attn(input_layernorm(x))), then
/// h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))); there post_attention_layernorm is the
/// attention output's norm, not the MLP input's as in Llama.
/// </summary>
public sealed class DecoderLayer : nn.Module
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly RMSNorm input_layernorm;
    private readonly CausalSelfAttention self_attn;
    private readonly RMSNorm post_attention_layernorm;
    private readonly RMSNorm? pre_feedforward_layernorm;
    private readonly RMSNorm? post_feedforward_layernorm;
    private readonly Mlp mlp;
#pragma warning restore IDE1006

    public DecoderLayer(ModelConfig c, Device? device, ScalarType dtype, Device? projectionDevice = null) : base(nameof(DecoderLayer))
    {
        RMSNorm Norm() => new(c.HiddenSize, c.RmsNormEps, device, dtype, unitOffset: c.Gemma);
        input_layernorm = Norm();
        self_attn = new CausalSelfAttention(c, device, dtype, projectionDevice);
        post_attention_layernorm = Norm();
        if (c.Gemma)
        {
            pre_feedforward_layernorm = Norm();
            post_feedforward_layernorm = Norm();
        }
        mlp = new Mlp(c, device, dtype, projectionDevice);
        RegisterComponents();
    }

    public CausalSelfAttention SelfAttention => self_attn;

    public Mlp MlpBlock => mlp;

    /// <param name="x">(B, T, C)</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, AttentionMask mask, KVCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        using var one = 1L.ToScalar();   // the residual adds' alpha, owned: TorchSharp's one-argument add makes an unowned one
        var attention = self_attn.forward(input_layernorm.call(x), cos, sin, mask, cache, layer);     // (B, T, C)
        if (pre_feedforward_layernorm is null)
        {
            var h = x.add(attention, one);                                                               // (B, T, C)
            return h.add(mlp.call(post_attention_layernorm.call(h)), one).MoveToOuterDisposeScope();
        }
        var g = x.add(post_attention_layernorm.call(attention), one);                                   // (B, T, C)
        var ff = mlp.call(pre_feedforward_layernorm.call(g));
        return g.add(post_feedforward_layernorm!.call(ff), one).MoveToOuterDisposeScope();              // (B, T, C)
    }
}
