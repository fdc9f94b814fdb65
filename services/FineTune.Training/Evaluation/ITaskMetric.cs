using FineTune.Training.Model;

namespace FineTune.Training.Evaluation;

/// <summary>A task-level score computed on the model as it is (e.g. exact match of generated answers), 0..1.</summary>
public interface ITaskMetric
{
    /// <summary>Key under which the score is reported (e.g. "json_exact_match").</summary>
    string Name { get; }

    double Compute(ITrainableCausalLM model, CancellationToken cancellationToken);
}
