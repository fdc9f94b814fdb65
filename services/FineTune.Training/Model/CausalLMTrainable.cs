using FineTune.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Model;

/// <summary>FineTune.Models' <see cref="CausalLM"/> seen through the trainer's <see cref="ITrainableCausalLM"/>.</summary>
public sealed class CausalLMTrainable(CausalLM model) : ITrainableCausalLM
{
    public CausalLM Model { get; } = model;

    public nn.Module Module => Model;

    public IReadOnlyList<string> LinearModulePaths => Model.LinearModulePaths;

    public long VocabSize => Model.Config.VocabSize;

    public void ReplaceLinear(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace) => Model.ReplaceLinear(path, replace);

    public void ReplaceModule(string path, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> replace) => Model.ReplaceModule(path, replace);

    public Tensor ForwardHidden(Tensor inputIds, Tensor? positionIds, Tensor? segmentIds) =>
        Model.ForwardHidden(inputIds, positionIds, segmentIds);

    public Tensor LmHead(Tensor hidden) => Model.LmHead(hidden);

    public void SetGradientCheckpointing(bool enabled) => Model.GradientCheckpointing = enabled;
}
