// Prefill/decode tokens/s of ft's generator (TextGenerator, what `ft generate` runs) against real llama.cpp on the
// same weights: writes the tiny model at a preset, converts it to an F32 GGUF, runs both on the same prompt tokens
// with greedy decoding and EOS ignored, and prints a Markdown table row. Usage:
//   dotnet run -c Release --project eng/bench/GenerateBench -- [preset=bench] [promptTokens=128] [newTokens=128] [threads=2]
using System.Diagnostics;
using System.Text.Json;
using FineTune.Export.Gguf;
using FineTune.Formats.Gguf;
using FineTune.Models;
using FineTune.Models.Generation;
using FineTune.Models.Tiny;
using static TorchSharp.torch;

var preset = TinyModelPreset.Named(args.ElementAtOrDefault(0) ?? "bench");
var promptTokens = int.Parse(args.ElementAtOrDefault(1) ?? "128");
var newTokens = int.Parse(args.ElementAtOrDefault(2) ?? "128");
var threads = int.Parse(args.ElementAtOrDefault(3) ?? "2");
const int Repeats = 3;

var work = Path.Combine(Path.GetTempPath(), $"ft-bench-{Guid.NewGuid():N}");
try
{
    var folder = Path.Combine(work, "model");
    var config = TinyModel.Write(folder, seed: 0, preset);
    var gguf = Path.Combine(work, "model-f32.gguf");
    new HfToGgufConverter().Convert(folder, gguf, GgufFileType.F32);

    var rng = new Random(0);
    var prompt = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(0, 256)).ToArray();

    set_num_threads(threads);
    using var model = CausalLM.Load(folder);
    var generator = new TextGenerator(model);
    var options = new GenerationOptions { Greedy = true, MaxNewTokens = newTokens };
    generator.Generate(prompt, options); // warm-up
    var ours = Enumerable.Range(0, Repeats).Select(_ => { generator.Generate(prompt, options); return generator.LastStats!; }).ToList();
    var ftPrefill = Median(ours.Select(s => s.PrefillSeconds));
    var ftDecode = Median(ours.Select(s => s.DecodeSeconds));

    var node = Path.Combine(FindRepo(), "eng", "node");
    var psi = new ProcessStartInfo("node", [Path.Combine(node, "llama-bench.mjs"), gguf, JsonSerializer.Serialize(prompt),
        newTokens.ToString(), threads.ToString(), Repeats.ToString()])
    { WorkingDirectory = node, RedirectStandardOutput = true, RedirectStandardError = true };
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEnd();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"llama-bench.mjs failed: {stderr}");
    using var llama = JsonDocument.Parse(stdout);
    var lPrefill = llama.RootElement.GetProperty("prefill_seconds").GetDouble();
    var lDecode = llama.RootElement.GetProperty("decode_seconds").GetDouble();
    var lGenerated = llama.RootElement.GetProperty("generated_tokens").GetInt32();

    double Rate(int n, double s) => n / s;
    var ftPre = Rate(promptTokens, ftPrefill);
    var ftDec = Rate(ours[0].GeneratedTokens - 1, ftDecode);
    var lPre = Rate(promptTokens, lPrefill);
    var lDec = Rate(lGenerated - 1, lDecode);
    Console.WriteLine($"| {preset.Name} ({config.NumHiddenLayers}×{config.HiddenSize}, {model.ParameterCount:N0} params, F32) | {threads} | {promptTokens} | {newTokens} " +
        $"| {ftPre:F0} | {lPre:F0} | {ftPre / lPre:F2} | {ftDec:F1} | {lDec:F1} | {ftDec / lDec:F2} |");
}
finally
{
    if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
}

static double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }

static string FindRepo()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "FineTune.Aspire.sln"))) return d.FullName;
    throw new InvalidOperationException("repository root not found");
}
