using System.CommandLine;
using FineTune.Training.Jobs;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft eval --model &lt;dir&gt; [--adapter &lt;dir&gt;] --data &lt;file&gt; [--json-exact-match] [--max-new-tokens 128] [--max-examples N] [--json]</c>:
/// loss and perplexity on the assistant turns, and optionally JSON exact match of greedy answers.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (HF layout)", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT adapter folder to apply" };
        var data = new Option<string>("--data") { Description = "Held-out data (any format ft train reads)", Required = true };
        var exact = new Option<bool>("--json-exact-match") { Description = "Generate each answer greedily and compare it with the reference as JSON" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Cap on generated tokens", DefaultValueFactory = _ => 128 };
        var maxExamples = new Option<int>("--max-examples") { Description = "Only the first N records (0 = all)", DefaultValueFactory = _ => 0 };
        var maxSeqLen = new Option<int>("--max-seq-len") { Description = "Truncate records to N tokens", DefaultValueFactory = _ => 2048 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (docs/cli.md)" };
        var command = new Command("eval", "Evaluate a model or model+adapter on held-out data")
        {
            model, adapter, data, exact, maxNew, maxExamples, maxSeqLen, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var result = await EvaluationRun.RunAsync(parse.GetValue(model)!, parse.GetValue(adapter), parse.GetValue(data)!,
                new EvaluationRun.Options(parse.GetValue(maxSeqLen), parse.GetValue(exact), parse.GetValue(maxNew), parse.GetValue(maxExamples)),
                cancellationToken);
            if (parse.GetValue(json))
                CliJson.Write(new { examples = result.Examples, eval_loss = result.Loss, eval_ppl = result.Perplexity, json_exact_match = result.ExactMatch });
            else
            {
                Console.WriteLine($"{result.Examples} examples: loss {result.Loss:F4}, perplexity {result.Perplexity:F2}"
                    + (result.ExactMatch is { } em ? $", JSON exact match {em:P1}" : ""));
                foreach (var (expected, generated) in result.Samples)
                    Console.WriteLine($"  expected  {expected}\n  generated {generated}");
            }
            return 0;
        });
        return command;
    }
}
