using System.CommandLine;
using FineTune.Training.Merge;

namespace FineTune.Cli.Commands;

/// <summary><c>ft merge --model &lt;base&gt; --adapter &lt;dir&gt; --out &lt;dir&gt; [--max-shard-mb 5000] [--json]</c>: W' = W + scale·B·A into a new HF folder.</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model folder (HF layout)", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors)", Required = true };
        var output = new Option<string>("--out") { Description = "New model folder (must not exist or be empty)", Required = true };
        var shard = new Option<long>("--max-shard-mb") { Description = "Shard size in MB (default 5000, as transformers)", DefaultValueFactory = _ => 5000 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (docs/cli.md)" };
        var command = new Command("merge", "Merge a LoRA adapter into its base model, writing a plain Hugging Face folder")
        {
            model, adapter, output, shard, json,
        };
        command.SetAction(parse =>
        {
            Console.Error.WriteLine($"ft: merging {parse.GetValue(adapter)} into {parse.GetValue(model)}");
            var result = AdapterMerger.Merge(parse.GetValue(model)!, parse.GetValue(adapter)!, parse.GetValue(output)!, parse.GetValue(shard) * 1000 * 1000);
            if (parse.GetValue(json))
                CliJson.Write(new { folder = result.Folder, merged_layers = result.MergedLayers, dtype = result.DType.ToString(), files = result.WeightFiles });
            else
                Console.WriteLine($"{result.Folder}: {result.MergedLayers} LoRA layers merged, {result.DType}, {string.Join(", ", result.WeightFiles)}");
            return 0;
        });
        return command;
    }
}
