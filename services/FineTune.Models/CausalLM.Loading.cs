using FineTune.Formats.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

public sealed partial class CausalLM
{
    /// <summary>Checkpoint keys older exports carry that hold no weights.</summary>
    private static bool Ignorable(string key) => key.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>
    /// Loads a Hugging Face model folder (config.json and model.safetensors or sharded model-*.safetensors with
    /// model.safetensors.index.json). Weights are cast to <paramref name="dtype"/> (default: BF16 on CUDA, F32 on CPU).
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, extra or mis-shaped tensors; the message names the folder and tensor.</exception>
    /// <exception cref="SafetensorsFormatException">A weight file is malformed.</exception>
    public static CausalLM Load(string folder, Device? device = null, ScalarType? dtype = null)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: model folder not found");
        var config = ModelConfig.FromFolder(folder);
        device ??= CPU;
        var model = new CausalLM(config, device, dtype ?? DefaultDType(device));
        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(folder);
            model.LoadWeights(checkpoint);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies every parameter from <paramref name="checkpoint"/>; strict about missing, extra and mis-shaped tensors.</summary>
    public void LoadWeights(SafetensorsCheckpoint checkpoint)
    {
        var parameters = named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        CheckTensors(checkpoint, parameters);
        CopyTensors(checkpoint, parameters);
    }

    /// <summary>
    /// Throws unless <paramref name="checkpoint"/> holds exactly the tensors of <paramref name="parameters"/> (plus
    /// ignorable ones and a tied lm_head), each of the parameter's shape. Reads headers only.
    /// </summary>
    private void CheckTensors(SafetensorsCheckpoint checkpoint, IReadOnlyDictionary<string, Parameter> parameters)
    {
        var missing = parameters.Keys.Where(k => !checkpoint.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{checkpoint.Source}: missing {missing.Count} tensor(s) that {Config.Architecture} with this config.json needs: {Sample(missing)}");
        var unexpected = checkpoint.Names
            .Where(k => !parameters.ContainsKey(k) && !Ignorable(k) && !(k == "lm_head.weight" && Config.TieWordEmbeddings))
            .Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException(
                $"{checkpoint.Source}: {unexpected.Count} tensor(s) that {Config.Architecture} with this config.json does not have: {Sample(unexpected)}");
        foreach (var (name, parameter) in parameters)
        {
            var info = checkpoint.Get(name);
            if (!info.Shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException(
                    $"{checkpoint.FileOf(name).Path}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}] but config.json implies [{string.Join(", ", parameter.shape)}]");
        }
    }

    /// <summary>Copies each of <paramref name="parameters"/> from the checkpoint, cast to the parameter's dtype and device.</summary>
    private static void CopyTensors(SafetensorsCheckpoint checkpoint, IReadOnlyDictionary<string, Parameter> parameters)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            using var scope = NewDisposeScope();
            parameter.copy_(ReadFloat(checkpoint, name).to(parameter.dtype, parameter.device));
        }
    }

    /// <summary>One checkpoint tensor as stored (a CPU tensor of its own dtype); throws unless it is floating point.</summary>
    private static Tensor ReadFloat(SafetensorsCheckpoint checkpoint, string name)
    {
        var source = TensorIO.Read(checkpoint, name);
        if (source.is_floating_point()) return source;
        var dtype = checkpoint.Get(name).DType;
        source.Dispose();
        throw new InvalidDataException($"{checkpoint.FileOf(name).Path}: tensor '{name}' is {dtype}, expected a floating-point type");
    }

    /// <summary>
    /// Writes config.json and the weights (state_dict keys, as HF names them) to <paramref name="folder"/>,
    /// cast to <paramref name="dtype"/> if given.
    /// </summary>
    public IReadOnlyList<string> Save(string folder, ScalarType? dtype = null, long maxShardBytes = long.MaxValue)
    {
        Directory.CreateDirectory(folder);
        var stored = dtype ?? DType;
        var files = TensorIO.WriteCheckpoint(folder,
            state_dict().Select(kv => (kv.Key, kv.Value)), stored, maxShardBytes);
        (Config with { TorchDtype = TorchDtypeName(stored) }).Save(folder);
        return files;
    }

    public static string TorchDtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float32 => "float32",
        _ => dtype.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Re-initialises weights as HF does for new models: N(0, std) for projections and embeddings, zero biases, unit norms
    /// ((1+w) norms: w = 0). <paramref name="normStd"/> &gt; 0 adds N(0, normStd) noise to the norms (test models whose
    /// exports must get every norm right); <paramref name="embeddingStd"/> overrides std for the embedding.
    /// </summary>
    public void InitializeWeights(long seed, double std = 0.02, double normStd = 0, double? embeddingStd = null)
    {
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed, CPU);
        foreach (var (name, p) in named_parameters())
        {
            using var scope = NewDisposeScope();
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                p.fill_(Config.Gemma ? 0 : 1);
                if (normStd > 0) p.add_(normal(0, normStd, p.shape, ScalarType.Float32, CPU, generator: generator).to(p.dtype, p.device));
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
                p.zero_();
            else
            {
                var sd = name == "model.embed_tokens.weight" ? embeddingStd ?? std : std;
                p.copy_(normal(0, sd, p.shape, ScalarType.Float32, CPU, generator: generator).to(p.dtype, p.device));
            }
        }
    }

    private static string Sample(List<string> keys) =>
        string.Join(", ", keys.Take(8)) + (keys.Count > 8 ? $", ... ({keys.Count - 8} more)" : "");
}
