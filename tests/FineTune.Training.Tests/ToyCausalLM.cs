using FineTune.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>
/// A tiny causal LM with HF-style paths, for testing the trainer without the real decoder: embeddings, one block with a
/// causal, segment-aware running mean through q/v/o projections and a SwiGLU MLP, and a head.
/// Paths: model.embed_tokens, model.layers.0.self_attn.{q,v,o}_proj, model.layers.0.mlp.{gate,up,down}_proj, lm_head.
/// </summary>
internal sealed class ToyCausalLM : nn.Module, ITrainableCausalLM
{
#pragma warning disable IDE1006 // HF checkpoint keys
    private readonly ToyDecoder model;
    private Linear lm_head;
#pragma warning restore IDE1006

    public ToyCausalLM(int vocab = 32, int hidden = 16, int intermediate = 24, ScalarType dtype = ScalarType.Float32, long seed = 1)
        : base(nameof(ToyCausalLM))
    {
        torch.manual_seed(seed);
        model = new ToyDecoder(vocab, hidden, intermediate, dtype);
        lm_head = nn.Linear(hidden, vocab, hasBias: false, dtype: dtype);
        VocabSize = vocab;
        RegisterComponents();
    }

    public nn.Module Module => this;

    public long VocabSize { get; }

    public IReadOnlyList<string> LinearModulePaths =>
        [.. model.Paths.Select(p => "model." + p)];

    public void ReplaceLinear(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace)
    {
        if (!path.StartsWith("model.", StringComparison.Ordinal)) throw new ArgumentException($"no Linear at {path}");
        model.Replace(path["model.".Length..], replace);
    }

    public Tensor ForwardHidden(Tensor inputIds, Tensor? positionIds, Tensor? segmentIds) => model.forward(inputIds, segmentIds);

    public Tensor LmHead(Tensor hidden) => lm_head.call(hidden);

    public Tensor Logits(Tensor inputIds) => LmHead(ForwardHidden(inputIds, null, null));
}

internal sealed class ToyDecoder : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006
    private readonly Embedding embed_tokens;
    private readonly ToyBlock layers_0;
#pragma warning restore IDE1006

    public ToyDecoder(int vocab, int hidden, int intermediate, ScalarType dtype) : base(nameof(ToyDecoder))
    {
        embed_tokens = nn.Embedding(vocab, hidden, dtype: dtype);
        layers_0 = new ToyBlock(hidden, intermediate, dtype);
        // registered by hand to expose the block under "layers.0" as HF does
        register_module("embed_tokens", embed_tokens);
        register_module("layers", nn.ModuleList(layers_0));
    }

    public IEnumerable<string> Paths => layers_0.Paths.Select(p => "layers.0." + p);

    public void Replace(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace)
    {
        if (!path.StartsWith("layers.0.", StringComparison.Ordinal)) throw new ArgumentException($"no Linear at {path}");
        layers_0.Replace(path["layers.0.".Length..], replace);
    }

    public override Tensor forward(Tensor ids, Tensor? segments)
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.call(ids);                        // (B, T, H)
        return layers_0.forward(h, segments).MoveToOuterDisposeScope();
    }
}

internal sealed class ToyBlock : nn.Module
{
    private readonly ToyAttention self_attn;
    private readonly ToyMlp mlp;

    public ToyBlock(int hidden, int intermediate, ScalarType dtype) : base(nameof(ToyBlock))
    {
        self_attn = new ToyAttention(hidden, dtype);
        mlp = new ToyMlp(hidden, intermediate, dtype);
        RegisterComponents();
    }

    public IEnumerable<string> Paths => self_attn.Names.Select(n => "self_attn." + n).Concat(mlp.Names.Select(n => "mlp." + n));

    public void Replace(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace)
    {
        var dot = path.IndexOf('.');
        var (owner, name) = (path[..dot], path[(dot + 1)..]);
        ToySlots slots = owner switch { "self_attn" => self_attn, "mlp" => mlp, _ => throw new ArgumentException($"no Linear at {path}") };
        slots.Replace(name, replace);
    }

    public Tensor forward(Tensor h, Tensor? segments)
    {
        using var scope = NewDisposeScope();
        h = h + self_attn.forward(h, segments);
        h = h + mlp.forward(h);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>Named Linear slots that can be swapped (LoRA injection).</summary>
internal abstract class ToySlots(string name) : nn.Module(name)
{
    protected readonly Dictionary<string, nn.Module<Tensor, Tensor>> Slots = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => Slots.Keys;

    protected void Add(string slot, Linear linear)
    {
        Slots[slot] = linear;
        register_module(slot, linear);
    }

    public void Replace(string slot, Func<Linear, nn.Module<Tensor, Tensor>> replace)
    {
        if (!Slots.TryGetValue(slot, out var current) || current is not Linear linear)
            throw new ArgumentException($"no Linear at {slot}");
        var next = replace(linear);
        Slots[slot] = next;
        register_module(slot, null!);
        register_module(slot, next);
    }

    protected Tensor Call(string slot, Tensor x) => Slots[slot].call(x);
}

/// <summary>Causal running mean of v_proj(x) gated by q_proj(x), restricted to the token's own segment.</summary>
internal sealed class ToyAttention : ToySlots
{
    public ToyAttention(int hidden, ScalarType dtype) : base(nameof(ToyAttention))
    {
        Add("q_proj", nn.Linear(hidden, hidden, hasBias: false, dtype: dtype));
        Add("v_proj", nn.Linear(hidden, hidden, hasBias: false, dtype: dtype));
        Add("o_proj", nn.Linear(hidden, hidden, hasBias: false, dtype: dtype));
    }

    public Tensor forward(Tensor x, Tensor? segments)
    {
        using var scope = NewDisposeScope();
        var t = x.shape[1];
        var mask = ones(t, t, dtype: ScalarType.Bool).tril();                           // (T, T) causal
        var m = mask.unsqueeze(0);                                                      // (1, T, T)
        if (segments is not null)
            m = m.logical_and(segments.unsqueeze(2).eq(segments.unsqueeze(1)));         // (B, T, T) same segment
        var w = m.to(x.dtype);
        w = w / w.sum(-1, keepdim: true).clamp_min(1);                                  // row-normalised
        var v = Call("v_proj", x);                                                      // (B, T, H)
        var mixed = w.matmul(v) * Call("q_proj", x).sigmoid();
        return Call("o_proj", mixed).MoveToOuterDisposeScope();
    }
}

internal sealed class ToyMlp : ToySlots
{
    public ToyMlp(int hidden, int intermediate, ScalarType dtype) : base(nameof(ToyMlp))
    {
        Add("gate_proj", nn.Linear(hidden, intermediate, hasBias: false, dtype: dtype));
        Add("up_proj", nn.Linear(hidden, intermediate, hasBias: false, dtype: dtype));
        Add("down_proj", nn.Linear(intermediate, hidden, hasBias: false, dtype: dtype));
    }

    public Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Call("down_proj", nn.functional.silu(Call("gate_proj", x)) * Call("up_proj", x)).MoveToOuterDisposeScope();
    }
}
