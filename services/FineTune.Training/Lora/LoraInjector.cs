using System.Text.RegularExpressions;
using FineTune.Models.Quantization;
using FineTune.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Lora;

/// <summary>
/// Freezes a model, wraps the targeted Linears in <see cref="LoraLinear"/> and unfreezes <c>modules_to_save</c>. With a
/// quantized base (QLoRA), every Linear of attention and MLP is quantized first, targeted or not, as bitsandbytes does
/// when it loads a model in 4 or 8 bits; the LoRA weights stay in full precision. A base loaded already quantized
/// (<c>CausalLM.Load(folder, quantization)</c>) keeps its <see cref="QuantizedLinear"/>s: they are wrapped as they are.
/// </summary>
public static class LoraInjector
{
    /// <summary>
    /// Applies <paramref name="options"/> to <paramref name="model"/> in place and returns the adapter's handles.
    /// Throws when no module matches a target or a module to save, naming it. Every lora_A is drawn from
    /// <paramref name="random"/> (a job's own generator, so that its seed alone decides them), or from torch's global
    /// generator when null.
    /// </summary>
    public static LoraAdapter Inject(ITrainableCausalLM model, LoraOptions options, Generator? random = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rank < 1) throw new ArgumentException($"lora r must be >= 1 (got {options.Rank})", nameof(options));

        foreach (var p in model.Module.parameters()) p.requires_grad = false;

        var targets = ResolveTargets(model.LinearModulePaths, options.TargetModules);
        var layers = new Dictionary<string, LoraLinear>(StringComparer.Ordinal);
        foreach (var path in targets)
        {
            model.ReplaceModule(path, module =>
            {
                var lora = Wrap(path, module, options, random);
                layers[path] = lora;
                return lora;
            });
        }
        if (options.Quantization.IsQuantized)
        {
            foreach (var path in model.LinearModulePaths.Where(p => !layers.ContainsKey(p)))
                model.ReplaceModule(path, module => module is Linear linear ? Quantize(linear, options.Quantization) : Quantized(path, module, options));
        }

        var saved = ResolveModulesToSave(model.Module, options.ModulesToSave);
        foreach (var (_, p) in saved) p.requires_grad = true;

        return new LoraAdapter(model, Effective(options, targets), layers, saved);
    }

    /// <summary>
    /// The default list names both layouts (Llama's separate projections, Phi-3's fused qkv_proj/gate_up_proj), so the
    /// adapter records the layout the model has: the fused names on a fused model, the separate ones otherwise.
    /// Any other list is kept as given, as PEFT writes it.
    /// </summary>
    private static LoraOptions Effective(LoraOptions options, IReadOnlyList<string> targets)
    {
        if (!options.TargetModules.SequenceEqual(LoraOptions.DefaultTargets)) return options;
        bool Matched(string name) => targets.Any(p => p.EndsWith("." + name, StringComparison.Ordinal));
        var fused = Matched("qkv_proj") || Matched("gate_up_proj");
        return options with
        {
            TargetModules = [.. options.TargetModules.Where(t => fused ? Matched(t) : t is not ("qkv_proj" or "gate_up_proj"))],
        };
    }

    private static LoraLinear Wrap(string path, nn.Module<Tensor, Tensor> module, LoraOptions options, Generator? random) => module switch
    {
        Linear linear when options.Quantization.IsQuantized =>
            new LoraLinear(Quantize(linear, options.Quantization), options.Rank, options.Scaling, options.Dropout, random),
        Linear linear => new LoraLinear(linear, options.Rank, options.Scaling, options.Dropout, random),
        _ => new LoraLinear(Quantized(path, module, options), options.Rank, options.Scaling, options.Dropout, random),
    };

    /// <summary>
    /// A projection the loader quantized already, checked against <paramref name="options"/>: the adapter records the
    /// base's quantization (base_quantization.json), and a merge rebuilds the base from it, so the two must agree.
    /// </summary>
    private static QuantizedLinear Quantized(string path, nn.Module<Tensor, Tensor> module, LoraOptions options)
    {
        if (module is not QuantizedLinear quantized)
            throw new InvalidOperationException($"'{path}' is a {module.GetType().Name}, not a Linear (LoRA injected twice?)");
        if (quantized.Quantization != options.Quantization)
            throw new InvalidOperationException(
                $"'{path}' was loaded quantized as {quantized.Quantization.Name} ({quantized.Quantization}) but lora.quantization is " +
                $"{options.Quantization.Name} ({options.Quantization}): load the base with the adapter's quantization");
        return quantized;
    }

    /// <summary>The quantized copy of <paramref name="linear"/>; the full-precision weight is released at once.</summary>
    private static QuantizedLinear Quantize(Linear linear, BaseQuantization quantization)
    {
        var quantized = new QuantizedLinear(linear, quantization);
        linear.Dispose();
        return quantized;
    }

    /// <summary>The module paths a target list selects: exact path, last component(s), "all-linear", or one regex (PEFT's rules).</summary>
    public static IReadOnlyList<string> ResolveTargets(IReadOnlyList<string> linearPaths, IReadOnlyList<string> targets)
    {
        if (targets.Count == 0) throw new ArgumentException("target_modules is empty: name at least one module or use \"all-linear\"");
        if (targets.Count == 1 && targets[0] == LoraOptions.AllLinear) return [.. linearPaths];

        // PEFT: a single string that is not a plain module name is a regex matched against the full path.
        if (targets.Count == 1 && targets[0].IndexOfAny(['*', '(', '[', '|', '^', '$', '\\']) >= 0)
        {
            var regex = new Regex("^(?:" + targets[0] + ")$", RegexOptions.CultureInvariant);
            var hits = linearPaths.Where(p => regex.IsMatch(p)).ToList();
            if (hits.Count == 0) throw new ArgumentException($"target_modules regex '{targets[0]}' matches no Linear module");
            return hits;
        }

        // As PEFT: entries that match nothing are ignored (the default list names projections some families lack),
        // but a list that matches nothing at all is an error naming the entries.
        var selected = linearPaths
            .Where(p => targets.Any(t => p == t || p.EndsWith("." + t, StringComparison.Ordinal)))
            .ToList();
        if (selected.Count == 0)
            throw new ArgumentException($"target_modules [{string.Join(", ", targets)}] match no Linear module (have: {string.Join(", ", linearPaths.Select(LastComponent).Distinct())})");
        return selected; // model order, no duplicates
    }

    private static List<(string Name, Parameter Param)> ResolveModulesToSave(nn.Module module, IReadOnlyList<string> names)
    {
        var result = new List<(string, Parameter)>();
        if (names.Count == 0) return result;
        var parameters = module.named_parameters().ToList();
        foreach (var name in names)
        {
            var hits = parameters.Where(p => IsUnder(p.name, name)).ToList();
            if (hits.Count == 0)
                throw new ArgumentException($"modules_to_save entry '{name}' matches no module with parameters");
            result.AddRange(hits);
        }
        return result;
    }

    /// <summary>True when parameter <paramref name="param"/> (e.g. model.embed_tokens.weight) belongs to module name or path <paramref name="module"/>.</summary>
    private static bool IsUnder(string param, string module)
    {
        var owner = param[..param.LastIndexOf('.')];
        return owner == module || owner.EndsWith("." + module, StringComparison.Ordinal);
    }

    private static string LastComponent(string path) => path[(path.LastIndexOf('.') + 1)..];
}
