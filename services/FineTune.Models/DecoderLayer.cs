using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly RMSNorm input_layernorm;
    private readonly CausalSelfAttention self_attn;
    private readonly RMSNorm post_attention_layernorm;
    private readonly Mlp mlp;
#pragma warning restore IDE1006

    public DecoderLayer(ModelConfig c, Device? device, ScalarType dtype) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RMSNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        self_attn = new CausalSelfAttention(c, device, dtype);
        post_attention_layernorm = new RMSNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        mlp = new Mlp(c, device, dtype);
        RegisterComponents();
    }

    public CausalSelfAttention SelfAttention => self_attn;

    public Mlp MlpBlock => mlp;

    /// <param name="x">(B, T, C)</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, AttentionMask mask, KVCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var h = x.add(self_attn.forward(input_layernorm.call(x), cos, sin, mask, cache, layer)); // (B, T, C)
        return h.add(mlp.call(post_attention_layernorm.call(h))).MoveToOuterDisposeScope();  // (B, T, C)
    }
}
