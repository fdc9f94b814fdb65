using FineTune.Models.Quantization;
using FineTune.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Lora;

/// <summary>
/// The LoRA layers and fully-trained modules injected into one model: what is trainable, what is saved
/// (under PEFT's names) and how it merges back into the base weights.
/// </summary>
public sealed class LoraAdapter
{
    /// <summary>PEFT's prefix for every saved key: the PeftModel wraps the HF model, which wraps the decoder.</summary>
    public const string PeftPrefix = "base_model.model.";

    private readonly IReadOnlyList<(string Name, Parameter Param)> _savedModules;

    internal LoraAdapter(ITrainableCausalLM model, LoraOptions options, IReadOnlyDictionary<string, LoraLinear> layers,
        IReadOnlyList<(string Name, Parameter Param)> savedModules)
    {
        Model = model;
        Options = options;
        Layers = layers;
        _savedModules = savedModules;
    }

    public ITrainableCausalLM Model { get; }

    public LoraOptions Options { get; }

    /// <summary>LoRA layers by the HF path of the Linear they wrap.</summary>
    public IReadOnlyDictionary<string, LoraLinear> Layers { get; }

    /// <summary>Every trainable tensor with its PEFT key, in a fixed order (layers in model order, A before B, then modules to save).</summary>
    public IReadOnlyList<(string Key, Parameter Param)> NamedTrainableParameters
    {
        get
        {
            var list = new List<(string, Parameter)>();
            foreach (var (path, layer) in Layers)
            {
                list.Add(($"{PeftPrefix}{path}.lora_A.weight", layer.LoraA));
                list.Add(($"{PeftPrefix}{path}.lora_B.weight", layer.LoraB));
            }
            foreach (var (name, p) in _savedModules)
                list.Add((PeftPrefix + name, p));
            return list;
        }
    }

    public IEnumerable<Parameter> TrainableParameters => NamedTrainableParameters.Select(p => p.Param);

    /// <summary>
    /// Trainable / total parameter counts, as PEFT's print_trainable_parameters reports them. A quantized base layer keeps
    /// its weight as codes, not as a parameter; it counts as the weights (and bias) it stands for, as PEFT counts a
    /// 4-bit weight by its unpacked size.
    /// </summary>
    public ParameterCount CountParameters()
    {
        long trainable = 0, total = 0;
        var seen = new HashSet<IntPtr>();
        foreach (var p in Model.Module.parameters())
        {
            if (!seen.Add(p.Handle)) continue;
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        foreach (var quantized in Model.Module.modules().OfType<QuantizedLinear>().Distinct())   // a module may be listed under two names
            total += quantized.InFeatures * quantized.OutFeatures + (quantized.HasBias ? quantized.OutFeatures : 0);
        return new ParameterCount(trainable, total);
    }

    /// <summary>The adapter's tensors under PEFT's on-disk names (detached copies, on CPU).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, p) in NamedTrainableParameters)
            dict[key] = p.detach().cpu().clone();
        return dict;
    }

    /// <summary>Copies tensors saved under PEFT's names into this adapter. Every key must be known and every shape must match.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var expected = NamedTrainableParameters.ToDictionary(p => p.Key, p => p.Param, StringComparer.Ordinal);
        foreach (var key in tensors.Keys)
            if (!expected.ContainsKey(key))
                throw new InvalidDataException($"{source}: tensor '{key}' does not belong to this adapter (its targets or modules_to_save differ)");
        using var _ = no_grad();
        foreach (var (key, param) in expected)
        {
            if (!tensors.TryGetValue(key, out var t))
                throw new InvalidDataException($"{source}: tensor '{key}' is missing");
            if (!t.shape.SequenceEqual(param.shape))
                throw new InvalidDataException($"{source}: tensor '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", param.shape)}]");
            param.copy_(t.to(param.dtype, param.device));
        }
    }

    /// <summary>Adds every B·A into its base weight. Idempotent.</summary>
    public void MergeAll()
    {
        foreach (var layer in Layers.Values) layer.Merge();
    }
}

/// <summary>Trainable and total parameters.</summary>
public readonly record struct ParameterCount(long Trainable, long Total)
{
    public double Percent => Total == 0 ? 0 : 100.0 * Trainable / Total;

    public override string ToString() =>
        $"trainable params: {Trainable:N0} || all params: {Total:N0} || trainable%: {Percent:F4}";
}
