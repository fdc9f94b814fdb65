using System.Text.Json.Nodes;
using FineTune.Export.Gguf;
using FineTune.Formats.Safetensors;

namespace FineTune.Tests;

/// <summary>
/// Writes a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) with seeded random A and B for
/// every Linear of a tiny model (a <see cref="TinyHfModel"/> spec, or any model folder: the product's TinyModel), and a
/// reference merge W' = W + (alpha/r)·B·A written as a new HF folder.
/// </summary>
public static class TinyPeftAdapter
{
    public static string Write(string folder, TinyHfModel.Spec spec, int r = 4, float alpha = 8, int seed = 7, float scale = 0.3f, bool rslora = false) =>
        Write(folder, TinyHfModel.LinearModules(spec).Select(m => (m, TinyHfModel.LinearShape(spec, m))), r, alpha, seed, scale, rslora);

    /// <summary>An adapter for every projection of the model in <paramref name="baseFolder"/> (any tiny model, the product's included).</summary>
    public static string Write(string folder, string baseFolder, int r = 4, float alpha = 8, int seed = 7, float scale = 0.3f, bool rslora = false)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(baseFolder);
        var linears = checkpoint.Tensors
            .Where(t => t.Name.StartsWith("model.layers.", StringComparison.Ordinal) && t.Name.EndsWith("_proj.weight", StringComparison.Ordinal) && t.Shape.Length == 2)
            .Select(t => (t.Name[..^".weight".Length], ((int)t.Shape[0], (int)t.Shape[1])))
            .ToList();
        return Write(folder, linears, r, alpha, seed, scale, rslora);
    }

    private static string Write(string folder, IEnumerable<(string Module, (int Out, int In) Shape)> linears, int r, float alpha, int seed, float scale, bool rslora)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        var w = new SafetensorsWriter();
        foreach (var (m, (o, i)) in linears)
        {
            w.Add($"base_model.model.{m}.lora_A.weight", SafetensorDType.F32, [r, i], TinyHfModel.Encode(Random(rng, r * i, scale), SafetensorDType.F32));
            w.Add($"base_model.model.{m}.lora_B.weight", SafetensorDType.F32, [o, r], TinyHfModel.Encode(Random(rng, o * r, scale), SafetensorDType.F32));
        }
        w.WriteFile(Path.Combine(folder, PeftToGgufLoraConverter.AdapterWeightsFile));
        var cfg = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["r"] = r,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = 0.0,
            ["use_rslora"] = rslora,
            ["use_dora"] = false,
            ["bias"] = "none",
            ["target_modules"] = new JsonArray("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        };
        File.WriteAllText(Path.Combine(folder, PeftToGgufLoraConverter.AdapterConfigFile), cfg.ToJsonString());
        return folder;
    }

    /// <summary>Reference merge for tests: copies the base folder and replaces each adapted weight by W + s·B·A.</summary>
    public static string Merge(string baseFolder, string adapterFolder, string mergedFolder, float scaling)
    {
        Directory.CreateDirectory(mergedFolder);
        foreach (var f in Directory.GetFiles(baseFolder).Where(f => !f.EndsWith(".safetensors")))
            File.Copy(f, Path.Combine(mergedFolder, Path.GetFileName(f)), overwrite: true);
        using var baseCkpt = SafetensorsCheckpoint.Open(baseFolder);
        using var adapter = SafetensorsFile.Open(Path.Combine(adapterFolder, PeftToGgufLoraConverter.AdapterWeightsFile));
        var w = new SafetensorsWriter();
        foreach (var t in baseCkpt.Tensors)
        {
            var data = HfTensorData.ReadFloat32(baseCkpt, t.Name);
            var module = t.Name.EndsWith(".weight") ? t.Name[..^".weight".Length] : null;
            var aName = $"base_model.model.{module}.lora_A.weight";
            if (module is not null && adapter.Contains(aName))
            {
                var a = HfTensorData.ToFloat32(SafetensorDType.F32, adapter.GetSpan(aName), aName);
                var b = HfTensorData.ToFloat32(SafetensorDType.F32, adapter.GetSpan($"base_model.model.{module}.lora_B.weight"), "B");
                var (rows, cols) = ((int)t.Shape[0], (int)t.Shape[1]);
                var r = a.Length / cols;
                for (var i = 0; i < rows; i++)
                    for (var j = 0; j < cols; j++)
                    {
                        double sum = 0;
                        for (var k = 0; k < r; k++) sum += (double)b[i * r + k] * a[k * cols + j];
                        data[i * cols + j] += (float)(scaling * sum);
                    }
            }
            w.Add(t.Name, SafetensorDType.F32, t.Shape, TinyHfModel.Encode(data, SafetensorDType.F32));
        }
        w.WriteFile(Path.Combine(mergedFolder, "model.safetensors"));
        return mergedFolder;
    }

    private static float[] Random(Random rng, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)(TinyHfModel.Gaussian(rng) * scale)).ToArray();
}
