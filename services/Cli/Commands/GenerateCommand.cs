using System.CommandLine;
using FineTune.Models;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Generation;
using FineTune.Models.Core.Tokenizers;
using FineTune.Training.Model;
using FineTune.Training.Peft;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft generate &lt;model&gt; [--adapter dir] --prompt … [--prompt …] [--chat [--system …]] [--max-tokens N] [--greedy] [--temperature T]
/// [--top-k K] [--top-p P] [--repetition-penalty R] [--stop S] [--seed N] [--json]</c>.
/// Text streams to stdout; with --json one object at the end.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Hugging Face model folder" };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) applied to the model" };
        var prompt = new Option<string[]>("--prompt") { Description = "Prompt text; repeat for a batch", Required = true, AllowMultipleArgumentsPerToken = false };
        var chat = new Option<bool>("--chat") { Description = "Wrap each prompt as a user turn with the model's chat template" };
        var system = new Option<string?>("--system") { Description = "System message for --chat" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 128 };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the most likely token" };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (0 = greedy)", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 40 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass (1 = off)", DefaultValueFactory = _ => 0.95 };
        var penalty = new Option<double>("--repetition-penalty") { Description = "Penalty on repeated tokens (1 = off)", DefaultValueFactory = _ => 1.0 };
        var stop = new Option<string[]>("--stop") { Description = "Stop string; repeatable" };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object at the end (documented in docs/cli.md)" };
        var command = new Command("generate", "Generate text from a model folder with a KV cache")
        {
            model, adapter, prompt, chat, system, maxTokens, greedy, temperature, topK, topP, penalty, stop, seed, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var folder = Path.GetFullPath(parse.GetValue(model)!);
            var prompts = parse.GetValue(prompt)!;
            var asJson = parse.GetValue(json);

            Console.Error.WriteLine($"ft: loading {folder}");
            var tokenizer = HfTokenizer.FromFolder(folder);
            using var lm = Load(folder, parse.GetValue(adapter));
            var eos = tokenizer.EosIds.Concat(lm.Config.EosTokenIds).Distinct().ToArray();
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxTokens),
                Greedy = parse.GetValue(greedy),
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                RepetitionPenalty = parse.GetValue(penalty),
                StopStrings = parse.GetValue(stop) ?? [],
                Seed = parse.GetValue(seed),
                EosTokenIds = eos,
            };
            if (parse.GetValue(system) is not null && !parse.GetValue(chat))
                throw new CliException("--system needs --chat");
            var encoded = Encode(tokenizer, folder, prompts, parse.GetValue(chat), parse.GetValue(system));
            var generator = new TextGenerator(lm, ids => tokenizer.Decode(ids, skipSpecialTokens: true));
            Action<GeneratedToken>? stream = asJson || prompts.Length > 1
                ? null
                : t => { Console.Out.Write(t.TextDelta); Console.Out.Flush(); };

            var results = generator.Generate(encoded, options, stream, cancellationToken);
            WriteResults(folder, lm, prompts, encoded, results, generator.LastStats!, asJson);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The model on the default device, with the PEFT adapter applied when one is given, in eval mode.</summary>
    private static CausalLM Load(string folder, string? adapterFolder)
    {
        var lm = CausalLM.Load(folder, CausalLM.DefaultDevice);
        try
        {
            if (adapterFolder is not null)
            {
                var loaded = PeftAdapterFiles.Load(new CausalLMTrainable(lm), Path.GetFullPath(adapterFolder));
                Console.Error.WriteLine($"ft: adapter {adapterFolder}: {loaded.Layers.Count} LoRA layers (r={loaded.Options.Rank}, alpha={loaded.Options.Alpha})");
            }
            lm.eval();
            return lm;
        }
        catch
        {
            lm.Dispose();
            throw;
        }
    }

    /// <summary>--json: one object; several prompts: one line each (a single prompt was streamed already); then the speeds on stderr.</summary>
    private static void WriteResults(string folder, CausalLM lm, string[] prompts, int[][] encoded,
        IReadOnlyList<GenerationResult> results, GenerationStats stats, bool asJson)
    {
        if (asJson)
        {
            CliJson.Write(new GenerateOutput(folder, lm.Config.Architecture, lm.Device.ToString(),
                [.. results.Select((r, i) => new GenerateResultOutput(prompts[i], encoded[i].Length, r.Text ?? "", r.TokenIds,
                    r.FinishReason.ToString().ToLowerInvariant()))],
                new GenerateStatsOutput(stats.PromptTokens, stats.GeneratedTokens, stats.PrefillSeconds, stats.DecodeSeconds,
                    stats.PrefillTokensPerSecond, stats.DecodeTokensPerSecond)));
        }
        else if (prompts.Length > 1)
        {
            for (var i = 0; i < results.Count; i++) Console.Out.WriteLine($"[{i}] {results[i].Text}");
        }
        else
        {
            Console.Out.WriteLine();
        }
        Console.Error.WriteLine($"ft: prefill {stats.PromptTokens} tokens at {stats.PrefillTokensPerSecond:F1} tok/s, decode {stats.GeneratedTokens} tokens at {stats.DecodeTokensPerSecond:F1} tok/s");
    }

    /// <summary>The prompts' token ids: as is, or (with --chat) each as a user turn, after the system message, in the model's chat template.</summary>
    private static int[][] Encode(HfTokenizer tokenizer, string folder, string[] prompts, bool chat, string? system)
    {
        if (!chat) return [.. prompts.Select(p => tokenizer.Encode(p))];
        var template = ChatTemplate.FromFolder(folder);
        return [.. prompts.Select(p =>
        {
            List<ChatMessage> messages = system is { } sys ? [new("system", sys)] : [];
            messages.Add(new ChatMessage("user", p));
            // the template writes any BOS itself
            return tokenizer.Encode(template.Render(messages, addGenerationPrompt: true), addSpecialTokens: false);
        })];
    }

    internal sealed record GenerateOutput(string Model, string Architecture, string Device,
        IReadOnlyList<GenerateResultOutput> Results, GenerateStatsOutput Stats);

    internal sealed record GenerateResultOutput(string Prompt, int PromptTokens, string Text, int[] TokenIds, string FinishReason);

    internal sealed record GenerateStatsOutput(int PromptTokens, int GeneratedTokens, double PrefillSeconds, double DecodeSeconds,
        double PrefillTokensPerSecond, double DecodeTokensPerSecond);
}
