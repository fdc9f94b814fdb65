namespace FineTune.AppHost.Demo;

/// <summary>
/// Configuration section <c>FineTune:Demo</c> (env <c>FineTune__Demo__*</c>, or <c>--FineTune:Demo:Enabled=false</c>; the
/// <c>--no-demo</c> flag sets Enabled=false): the embedded default job the AppHost submits on an empty job store.
/// Unset values leave DemoJob's recipe as it is (docs/jobs.md, "The embedded default job").
/// </summary>
public sealed class DemoJobOptions
{
    public const string Section = "FineTune:Demo";

    /// <summary>Submit the default job when the job store is empty. Off for real use.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Tiny model preset (nano, tiny, small): DemoJob's default is tiny.</summary>
    public string Preset { get; set; } = "tiny";

    /// <summary>Override of training.max_steps (null: DemoJob's).</summary>
    public int? MaxSteps { get; set; }

    /// <summary>Override of training.micro_batch_size (null: DemoJob's).</summary>
    public int? MicroBatchSize { get; set; }

    /// <summary>Override of training.gradient_accumulation_steps (null: DemoJob's).</summary>
    public int? GradientAccumulationSteps { get; set; }

    /// <summary>Override of eval.max_examples: how many held-out examples are generated and scored (null: all).</summary>
    public int? EvalExamples { get; set; }

    /// <summary>Override of eval.max_new_tokens (null: DemoJob's).</summary>
    public int? MaxNewTokens { get; set; }

    /// <summary>
    /// Trainer replicas that train the one job together (training.parallelism, data parallel; at most the recipe's
    /// gradient_accumulation_steps). 2: both trainer replicas train the demo; 1: one trains it, the other stays free.
    /// </summary>
    public int Parallelism { get; set; } = 2;

    /// <summary>Merge + GGUF + Modelfile (+ Ollama registration when reachable) after training.</summary>
    public bool Export { get; set; } = true;

    /// <summary>Rows of the before/after table printed on the console (all rows are on the dashboard's job page).</summary>
    public int ConsoleRows { get; set; } = 10;
}
