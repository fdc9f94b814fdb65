using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>The "model." part of a Hugging Face causal LM: token embeddings, the blocks, the final norm.</summary>
public sealed class DecoderModel : nn.Module
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Embedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RMSNorm norm;
#pragma warning restore IDE1006
    private readonly DecoderLayer[] _layers;
    private readonly double _embeddingScale;

    public DecoderModel(ModelConfig c, Device? device, ScalarType dtype, Device? projectionDevice = null) : base(nameof(DecoderModel))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device, dtype: dtype);
        layers = nn.ModuleList([.. Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, device, dtype, projectionDevice))]);
        norm = new RMSNorm(c.HiddenSize, c.RmsNormEps, device, dtype, unitOffset: c.Gemma);
        _embeddingScale = c.Gemma ? Math.Sqrt(c.HiddenSize) : 1;
        RegisterComponents();
        _layers = [.. layers]; // after RegisterComponents: a plain array, not a second registration
    }

    public Embedding EmbedTokens => embed_tokens;

    public IReadOnlyList<DecoderLayer> Layers => _layers;

    public RMSNorm Norm => norm;

    /// <summary>Token embeddings (B, T, C); Gemma multiplies them by √hidden, rounded to the weights' dtype as HF does.</summary>
    public Tensor Embed(Tensor inputIds)
    {
        if (_embeddingScale == 1) return embed_tokens.call(inputIds);
        using var scope = NewDisposeScope();
        using var scale = tensor(_embeddingScale, embed_tokens.weight!.dtype, inputIds.device);
        return embed_tokens.call(inputIds).mul(scale).MoveToOuterDisposeScope();
    }
}
