using System.CommandLine;
using FineTune.Contracts.Jobs;
using FineTune.Demo;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using FineTune.Training.Training;
using Spectre.Console;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft train --model &lt;dir&gt; --data &lt;file&gt; [--config job.yaml] [--out dir] [--eval-data file] [--resume] [--json]</c>,
/// or <c>ft train --demo [--out dir] [--preset tiny] [--steps N]</c> for the embedded seed-003 demo.
/// A live progress bar goes to stderr; the summary (before/after evaluation) to stdout.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Base model folder (HF layout); overrides the job file" };
        var data = new Option<string?>("--data") { Description = "Training data (JSONL/JSON/text/CSV in any seed format); overrides the job file" };
        var evalData = new Option<string?>("--eval-data") { Description = "Held-out data; else eval_split of --data is held out" };
        var config = new Option<string?>("--config") { Description = "Job file (YAML or JSON) with every hyper-parameter; see docs/training.md" };
        var output = new Option<string?>("--out") { Description = "Output folder: adapter/, checkpoints/, metrics.jsonl, summary.json (default: out)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in <out>/checkpoints" };
        var demo = new Option<bool>("--demo") { Description = "Run the embedded demo: tiny model, generated seed-003 HTML→JSON task, exact match before/after" };
        var preset = new Option<string>("--preset") { Description = "Demo model size (nano, tiny, small)", DefaultValueFactory = _ => "tiny" };
        var steps = new Option<int?>("--steps") { Description = "Override max_steps" };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object (docs/cli.md)" };
        var command = new Command("train", "Fine-tune a LoRA adapter (PEFT format) on chat/instruction data")
        {
            model, data, evalData, config, output, resume, demo, preset, steps, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TrainingJob job;
            if (parse.GetValue(demo))
            {
                var folder = parse.GetValue(output) ?? Path.Combine(".ft", "demo");
                Console.Error.WriteLine($"ft: preparing the demo in {Path.GetFullPath(folder)} (tiny model, {DemoJob.TrainExamples} generated examples, {DemoJob.EvalExamples} held out)");
                job = PrepareDemo(folder, parse.GetValue(preset)!, parse.GetValue(steps));
            }
            else
            {
                job = parse.GetValue(config) is { } path ? TrainingJobFile.Load(path) : new TrainingJob();
                job.Model = parse.GetValue(model) ?? job.Model;
                job.Data = parse.GetValue(data) ?? job.Data;
                job.EvalData = parse.GetValue(evalData) ?? job.EvalData;
                job.Output = parse.GetValue(output) ?? job.Output ?? "out";
                if (parse.GetValue(steps) is { } n) job.Training.MaxSteps = n;
                if (job.Model is null) throw new CliException("--model (or model: in the job file) is required");
                if (job.Data is null) throw new CliException("--data (or data: in the job file) is required");
            }
            return await RunAsync(job, parse.GetValue(resume), parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Writes the demo into <paramref name="folder"/>: its model (once; <see cref="DemoJob.Model"/>, with the tokenizer learnt
    /// from <see cref="DemoJob.TokenizerCorpus"/>), the train and held-out data, and returns <see cref="DemoJob.Create"/>'s job.
    /// </summary>
    private static TrainingJob PrepareDemo(string folder, string preset, int? maxSteps)
    {
        folder = Path.GetFullPath(folder);
        var model = Path.Combine(folder, "model");
        var spec = DemoJob.Model(preset);
        if (!File.Exists(Path.Combine(model, "config.json")))
            TinyModel.Write(model, spec.Seed, TinyModelPreset.Named(spec.Preset), overwrite: true,
                tokenizerCorpus: DemoJob.TokenizerCorpus(), merges: DemoJob.TokenizerMerges);
        var (train, eval) = DemoJob.WriteData(Path.Combine(folder, "data"));
        return DemoJob.Create(model, train, eval, Path.Combine(folder, "run"), maxSteps);
    }

    private static async Task<int> RunAsync(TrainingJob job, bool resume, bool json, CancellationToken cancellationToken)
    {
        using var run = await TrainingRun.PrepareAsync(job, cancellationToken: cancellationToken);
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        err.MarkupLineInterpolated($"[grey]ft:[/] {run.Parameters}");
        err.MarkupLineInterpolated($"[grey]ft:[/] {run.Train.Examples} training examples → {run.Train.Rows.Count} rows ({run.Train.LabelTokens:N0} label tokens; {run.Train.Truncated} truncated, {run.Train.DroppedWithoutLabels} dropped), {run.Eval?.Examples ?? 0} held out; {run.TotalSteps} steps");

        StepRecord? last = null;
        await err.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("training", maxValue: run.TotalSteps);
                await foreach (var e in run.RunAsync(resume, cancellationToken))
                {
                    switch (e)
                    {
                        case StepRecord s:
                            last = s;
                            task.Value = s.Step;
                            task.Description = $"step {s.Step}/{s.TotalSteps} loss {s.Loss:F4} lr {s.LearningRate:G3} |g| {s.GradNorm:F2} {s.TokensPerSecond:N0} tok/s";
                            break;
                        case EvalRecord v:
                            err.MarkupLineInterpolated($"[grey]ft:[/] eval @ step {v.Step}: loss {v.EvalLoss:F4} ppl {v.EvalPerplexity:F2}{FormatMetrics(v)}");
                            break;
                        case CheckpointRecord c:
                            err.MarkupLineInterpolated($"[grey]ft:[/] checkpoint {c.Path}");
                            break;
                    }
                }
                task.Value = run.TotalSteps;
            });

        var adapter = Path.Combine(run.Output, TrainingRun.AdapterFolder);
        if (json)
        {
            CliJson.Write(new
            {
                adapter,
                steps = run.TotalSteps,
                final_loss = last?.Loss,
                parameters = new { trainable = run.Parameters.Trainable, total = run.Parameters.Total },
                before = Metrics(run.Before),
                after = Metrics(run.After),
            });
        }
        else
        {
            var table = new Table().AddColumn("").AddColumn("before").AddColumn("after");
            table.AddRow("eval loss", Format(run.Before?.EvalLoss), Format(run.After?.EvalLoss));
            table.AddRow("eval perplexity", Format(run.Before?.EvalPerplexity), Format(run.After?.EvalPerplexity));
            foreach (var name in (run.After?.Metrics ?? run.Before?.Metrics ?? new Dictionary<string, double>()).Keys)
                table.AddRow(name, Percent(run.Before?.Metrics.GetValueOrDefault(name)), Percent(run.After?.Metrics.GetValueOrDefault(name)));
            AnsiConsole.Write(table);
            Console.WriteLine($"adapter: {adapter}");
        }
        return 0;
    }

    private static object? Metrics(EvalRecord? e) => e is null ? null : new
    {
        step = e.Step,
        eval_loss = double.IsFinite(e.EvalLoss) ? e.EvalLoss : (double?)null,
        eval_ppl = double.IsFinite(e.EvalPerplexity) ? e.EvalPerplexity : (double?)null,
        metrics = e.Metrics,
    };

    private static string FormatMetrics(EvalRecord v) =>
        string.Concat(v.Metrics.Select(m => $", {m.Key} {m.Value:P1}"));

    private static string Format(double? v) => v is { } d && double.IsFinite(d) ? d.ToString("F4") : "-";

    private static string Percent(double? v) => v is { } d && double.IsFinite(d) ? d.ToString("P1") : "-";
}
