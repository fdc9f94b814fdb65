using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// A Hugging Face decoder-only causal LM (Llama, Qwen2, Mistral) in TorchSharp. Field names, and so
/// <c>state_dict()</c> keys, are the checkpoint keys: <c>model.embed_tokens.weight</c>,
/// <c>model.layers.{i}.self_attn.q_proj.weight</c>, ..., <c>model.norm.weight</c>, <c>lm_head.weight</c> (untied only).
/// </summary>
public sealed partial class CausalLM : nn.Module
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly DecoderModel model;
    private readonly Linear? lm_head;
#pragma warning restore IDE1006
    private readonly double[] _inverseFrequencies;
    private readonly double[]? _localInverseFrequencies;

    /// <param name="projectionDevice">Where the attention and MLP Linears are built (default: <paramref name="device"/>);
    /// the quantizing loader passes "meta" so they get shapes but no storage before it swaps them.</param>
    public CausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32, Device? projectionDevice = null)
        : base(config.Architecture)
    {
        Config = config;
        Device = device ?? CPU;
        DType = dtype;
        model = new DecoderModel(config, Device, dtype, projectionDevice);
        if (!config.TieWordEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, Device, dtype);
        RegisterComponents();
        _inverseFrequencies = Rope.InverseFrequencies(config);
        if (config.RopeLocalTheta is not null) _localInverseFrequencies = Rope.InverseFrequencies(config, local: true);
    }

    public ModelConfig Config { get; }

    public Device Device { get; }

    public ScalarType DType { get; }

    public DecoderModel Model => model;

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// Recompute each decoder layer's activations in the backward pass instead of keeping them (HF's
    /// <c>gradient_checkpointing_enable()</c>): only each layer's input is kept. It applies in training mode with grad
    /// enabled and no KV cache; evaluation and generation are unaffected. Dropout is replayed exactly on CPU; on other
    /// devices the layers must not contain dropout (TorchSharp 0.107 cannot save the CUDA generator's state).
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>CUDA when libtorch can see a GPU, else CPU.</summary>
    public static Device DefaultDevice => cuda.is_available() ? CUDA : CPU;

    /// <summary>BF16 on CUDA, F32 on CPU.</summary>
    public static ScalarType DefaultDType(Device device) => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Logits (B, T, V) for token ids (B, T).</summary>
    /// <param name="inputIds">(B, T) int64.</param>
    /// <param name="positionIds">(B, T); default: the cache length onwards, or positions within each segment.</param>
    /// <param name="segmentIds">(B, T): a token attends only to earlier tokens with the same id; 0 = padding.</param>
    /// <param name="cache">Keys/values of earlier tokens; the new ones are appended.</param>
    public Tensor forward(Tensor inputIds, Tensor? positionIds = null, Tensor? segmentIds = null, KVCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = ForwardHidden(inputIds, positionIds, segmentIds, cache);
        return LmHead(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>The final-norm hidden states (B, T, C); see <see cref="forward"/>.</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? positionIds = null, Tensor? segmentIds = null, KVCache? cache = null)
    {
        if (inputIds.ndim != 2 || inputIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"inputIds must be (B, T) int64, got {inputIds.dtype} [{string.Join(", ", inputIds.shape)}]");
        var (b, t) = (inputIds.shape[0], inputIds.shape[1]);
        CheckShape(positionIds, nameof(positionIds), b, t);
        CheckShape(segmentIds, nameof(segmentIds), b, t);

        using var scope = NewDisposeScope();
        var device = inputIds.device;
        var past = cache?.Length ?? 0;

        // One segment per row and no padding is plain causal attention: no mask lets SDPA take its fused causal kernel
        // instead of materialising (B, nh, T, T) scores (the quadratic memory of a training step).
        var querySegments = cache is null && segmentIds is not null && IsOneSegmentPerRow(segmentIds) ? null : segmentIds;
        var keySegments = querySegments;
        if (cache is not null)
        {
            var segs = segmentIds ?? ones([b, t], ScalarType.Int64, device);
            cache.BeginStep(segs);
            if (segmentIds is not null || past > 0) (querySegments, keySegments) = (segs, cache.Segments(t));
        }
        positionIds ??= segmentIds is not null && past == 0
            ? PositionsWithinSegments(segmentIds)
            : Positions(past, t, device).unsqueeze(0).expand(b, t);

        using var inputs = LayerInputs.Build(Config, _inverseFrequencies, _localInverseFrequencies, positionIds,
            t, past, querySegments, keySegments, device);

        var x = model.Embed(inputIds);                                                     // (B, T, C)
        var checkpoint = GradientCheckpointing && training && is_grad_enabled() && cache is null;
        for (var i = 0; i < model.Layers.Count; i++)
        {
            var (cos, sin, mask) = inputs.For(i);
            x = checkpoint
                ? CheckpointedLayer(i, x, cos, sin, mask)                                   // (B, T, C), recomputed in backward
                : model.Layers[i].forward(x, cos, sin, mask, cache, i);                    // (B, T, C)
        }
        cache?.EndStep(t);
        return model.Norm.call(x).MoveToOuterDisposeScope();                              // (B, T, C)
    }

    /// <summary>Layer <paramref name="i"/> under <see cref="ActivationCheckpoint"/>: keeps x, cos, sin and the mask, recomputes the rest.</summary>
    private Tensor CheckpointedLayer(int i, Tensor x, Tensor cos, Tensor sin, AttentionMask mask)
    {
        var layer = model.Layers[i];
        if (x.device.type != DeviceType.CPU && layer.modules().Any(m => m is Dropout))
            throw new NotSupportedException(
                $"gradient checkpointing on {x.device} needs dropout 0 in the decoder layers (e.g. lora.dropout: 0): TorchSharp 0.107 " +
                "cannot save and restore that device's random generator, so dropout could not be replayed in the recomputation");
        return ActivationCheckpoint.Run(
            t => layer.forward(t[0]!, t[1]!, t[2]!, AttentionMask.Borrow(t[3]), null, i),
            [x, cos, sin, mask.Mask], layer.parameters());
    }

    /// <summary>
    /// Logits (..., V) from final hidden states (..., C), through the tied embedding or lm_head, then soft-capped to
    /// cap·tanh(logits/cap) when the config has final_logit_softcapping.
    /// </summary>
    public Tensor LmHead(Tensor hidden)
    {
        var logits = lm_head is null ? nn.functional.linear(hidden, model.EmbedTokens.weight!) : lm_head.call(hidden);
        if (Config.FinalLogitSoftcapping is not { } cap) return logits;
        using (logits)
        using (var capScalar = cap.ToScalar())   // owned: an implicit Scalar is freed by a finalizer
        using (var scaled = logits.div(capScalar))
        using (var capped = scaled.tanh())
            return capped.mul(capScalar);
    }

    /// <summary>Position of each token within its segment: [a a a b b] → [0 1 2 0 1].</summary>
    public static Tensor PositionsWithinSegments(Tensor segmentIds)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (segmentIds.shape[0], segmentIds.shape[1]);
        var index = Positions(0, t, segmentIds.device).unsqueeze(0).expand(b, t);                           // (B, T)
        var changes = segmentIds.narrow(1, 1, t - 1).ne(segmentIds.narrow(1, 0, t - 1));                     // (B, T-1)
        var isStart = cat([ones([b, 1], ScalarType.Bool, segmentIds.device), changes], 1);                    // (B, T)
        var start = cummax(where(isStart, index, zeros_like(index)), 1).values;                                // (B, T)
        return index.sub(start).MoveToOuterDisposeScope();
    }

    /// <summary>True when every row of (B, T) segment ids is one nonzero id throughout (no packing, no padding).</summary>
    private static bool IsOneSegmentPerRow(Tensor segmentIds)
    {
        using var scope = NewDisposeScope();
        using var padding = 0L.ToScalar();
        return segmentIds.eq(segmentIds.narrow(1, 0, 1)).logical_and(segmentIds.ne(padding)).all().item<bool>();
    }

    /// <summary>
    /// [start, start + count) as Int64, with owned Scalars: an implicit one is freed by TorchSharp's finalizer, which may
    /// run while libtorch still reads it (docs/training.md, "The optimizer's native crash").
    /// </summary>
    private static Tensor Positions(long start, long count, Device device)
    {
        using var first = start.ToScalar();
        using var end = (start + count).ToScalar();
        using var one = 1L.ToScalar();
        return arange(first, end, one, dtype: ScalarType.Int64, device: device);
    }

    private static void CheckShape(Tensor? t, string name, long b, long len)
    {
        if (t is not null && (t.ndim != 2 || t.shape[0] != b || t.shape[1] != len))
            throw new ArgumentException($"{name} must be (B, T) = ({b}, {len}), got [{string.Join(", ", t.shape)}]");
    }

    // ---- projections (LoRA injection)

    /// <summary>Every Linear in attention and MLP, by HF path, e.g. "model.layers.0.self_attn.q_proj".</summary>
    public IReadOnlyList<string> LinearModulePaths =>
    [
        .. Enumerable.Range(0, Config.NumHiddenLayers).SelectMany(i =>
            model.Layers[i].SelfAttention.LinearNames.Select(n => $"model.layers.{i}.self_attn.{n}")
                .Concat(model.Layers[i].MlpBlock.LinearNames.Select(n => $"model.layers.{i}.mlp.{n}"))),
    ];

    /// <summary>The module now at <paramref name="path"/> (a Linear, or whatever replaced it).</summary>
    public nn.Module<Tensor, Tensor> GetLinear(string path)
    {
        var (host, name) = Resolve(path);
        return host.GetLinear(name);
    }

    /// <summary>Swaps the Linear at <paramref name="path"/> for what <paramref name="replace"/> builds from it.</summary>
    public void ReplaceLinear(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace)
    {
        var (host, name) = Resolve(path);
        if (host.GetLinear(name) is not Linear linear)
            throw new InvalidOperationException($"'{path}' is no longer a Linear (it was already replaced by {host.GetLinear(name).GetType().Name})");
        host.SetLinear(name, replace(linear) ?? throw new InvalidOperationException($"replacement for '{path}' is null"));
    }

    /// <summary>Swaps whatever module is at <paramref name="path"/> (e.g. to undo a replacement).</summary>
    public void ReplaceModule(string path, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> replace)
    {
        var (host, name) = Resolve(path);
        host.SetLinear(name, replace(host.GetLinear(name)));
    }

    private (ILinearHost Host, string Name) Resolve(string path)
    {
        var parts = path.Split('.');
        if (parts is ["model", "layers", var index, var block, var name]
            && int.TryParse(index, out var i) && i >= 0 && i < model.Layers.Count)
        {
            ILinearHost? host = block switch
            {
                "self_attn" => model.Layers[i].SelfAttention,
                "mlp" => model.Layers[i].MlpBlock,
                _ => null,
            };
            if (host is not null) return (host, name);
        }
        throw new KeyNotFoundException(
            $"'{path}' is not a projection of this model; expected e.g. model.layers.0.self_attn.q_proj (layers 0..{model.Layers.Count - 1})");
    }
}
