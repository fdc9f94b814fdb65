using System.CommandLine;
using FineTune.Models;
using FineTune.Models.Core;

namespace FineTune.Cli.Commands;

/// <summary><c>ft inspect &lt;model&gt; [--json]</c>: architecture, sizes, parameter count, dtypes, tokenizer kind.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Hugging Face model folder (config.json + *.safetensors)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (documented in docs/cli.md)" };
        var command = new Command("inspect", "Describe a model folder without loading its weights") { model, json };
        command.SetAction(parse =>
        {
            var summary = ModelInspector.Inspect(parse.GetValue(model)!);
            if (parse.GetValue(json))
            {
                CliJson.Write(summary);
                return 0;
            }
            Console.WriteLine($"folder         {summary.Folder}");
            Console.WriteLine($"architecture   {summary.Architecture} ({summary.ModelType})");
            Console.WriteLine($"parameters     {summary.ParameterCount:N0} ({string.Join(", ", summary.ParametersByDtype.Select(kv => $"{kv.Key}: {kv.Value:N0}"))})");
            Console.WriteLine($"weights        {summary.WeightBytes:N0} bytes in {string.Join(", ", summary.WeightFiles)}");
            Console.WriteLine($"layers         {summary.Layers} × hidden {summary.HiddenSize}, mlp {summary.IntermediateSize}");
            Console.WriteLine($"attention      {summary.AttentionHeads} heads, {summary.KeyValueHeads} kv heads, head_dim {summary.HeadDim}");
            Console.WriteLine($"vocab          {summary.VocabSize} (embeddings {(summary.TieWordEmbeddings ? "tied" : "untied")})");
            Console.WriteLine($"context        {summary.MaxPositionEmbeddings}{(summary.RopeScaling is null ? "" : $", rope scaling {summary.RopeScaling}")}{(summary.SlidingWindow is { } w ? $", sliding window {w}" : "")}");
            Console.WriteLine($"tokenizer      {summary.TokenizerKind}{(summary.HasChatTemplate ? ", chat template" : ", no chat template")}");
            return 0;
        });
        return command;
    }
}
