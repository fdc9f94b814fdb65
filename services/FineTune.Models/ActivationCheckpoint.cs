// Written by hand: TorchSharp 0.107 has no torch.utils.checkpoint. This builds it on the custom autograd function that
// TorchSharp does offer (torch.autograd.SingleTensorFunction), the way PyTorch's reentrant checkpoint works.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace FineTune.Models;

/// <summary>
/// Activation ("gradient") checkpointing of one block: the forward pass runs the block without recording a graph and keeps
/// only its inputs; the backward pass runs the block again from those inputs with grad enabled and propagates the incoming
/// gradient through that recomputed graph. Memory for the block's intermediate activations is traded for a second forward.
/// <para>
/// The block must be a pure function of its tensor inputs, the module parameters it uses, and the generator dropout
/// draws from on this thread (<see cref="DropoutGenerator"/>: a job's own, or torch's default CPU generator).
/// The generator state is saved before the forward pass and restored for the recomputation (then put back), so dropout
/// draws the same masks both times, and the run's random stream is the same as without checkpointing. Only CPU
/// generators can be saved: TorchSharp 0.107 exposes no CUDA generator state, so on other devices the block must not draw
/// random numbers (<see cref="Run"/> cannot check that; callers refuse dropout there).
/// </para>
/// </summary>
public static class ActivationCheckpoint
{
    /// <summary>Runs <paramref name="block"/> on <paramref name="inputs"/> with its activations recomputed in backward.</summary>
    /// <param name="block">The computation; it receives tensors equal to <paramref name="inputs"/> (null stays null).</param>
    /// <param name="inputs">Tensor inputs. Gradients flow back to those that require grad.</param>
    /// <param name="parameters">Every parameter the block uses; those that require grad receive their gradients.</param>
    /// <returns>The block's output, with a gradient function that recomputes the block.</returns>
    public static Tensor Run(Func<Tensor?[], Tensor> block, IReadOnlyList<Tensor?> inputs, IEnumerable<Tensor> parameters)
    {
        var trainable = parameters.Where(p => p.requires_grad).ToList();
        var call = new CheckpointCall(block, inputs.Count, trainable);
        var vars = new object?[1 + inputs.Count + trainable.Count];
        vars[0] = call;
        for (var i = 0; i < inputs.Count; i++) vars[1 + i] = inputs[i];
        for (var i = 0; i < trainable.Count; i++) vars[1 + inputs.Count + i] = trainable[i];
        return CheckpointFunction.apply(vars!);
    }

    /// <summary>What one checkpointed call needs again in backward (the function object itself is a shared singleton).</summary>
    private sealed class CheckpointCall(Func<Tensor?[], Tensor> block, int inputCount, IReadOnlyList<Tensor> parameters)
    {
        public Func<Tensor?[], Tensor> Block { get; } = block;
        public int InputCount { get; } = inputCount;
        public IReadOnlyList<Tensor> Parameters { get; } = parameters;
        public byte[]? RngState { get; set; }
    }

    /// <summary>
    /// vars = [CheckpointCall, input_0 … input_{n-1}, trainable parameter_0 … parameter_{m-1}]; the parameters are vars so
    /// that the engine accumulates the gradients this returns for them. Saved for backward: the inputs (references, not
    /// copies). Gradients returned: one per var, null where there is none.
    /// </summary>
    private sealed class CheckpointFunction : SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => "CheckpointBackward";

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            // TorchSharp runs this under no_grad: the block records no graph and its activations are freed as it goes.
            var call = (CheckpointCall)vars[0];
            var inputs = new Tensor?[call.InputCount];
            for (var i = 0; i < inputs.Length; i++) inputs[i] = vars[1 + i] as Tensor;
            using (var state = DropoutGenerator.GetState())
                call.RngState = state.bytes.ToArray();
            ctx.save_data(nameof(CheckpointCall), call);
            ctx.save_for_backward([.. inputs.Select(t => t!)]);
            return call.Block(inputs);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
        {
            var call = (CheckpointCall)ctx.get_data(nameof(CheckpointCall));
            var grads = new Tensor?[1 + call.InputCount + call.Parameters.Count];
            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var inputs = new Tensor?[call.InputCount];
                var wrt = new List<(int Var, Tensor Tensor)>();
                for (var i = 0; i < call.InputCount; i++)
                {
                    if (saved[i] is not { } t) continue;
                    // A fresh leaf: the recomputed graph ends here, and its gradient is returned to the outer graph.
                    inputs[i] = t.detach().requires_grad_(t.requires_grad);
                    if (t.requires_grad) wrt.Add((1 + i, inputs[i]!));
                }
                for (var j = 0; j < call.Parameters.Count; j++)
                    wrt.Add((1 + call.InputCount + j, call.Parameters[j]));

                Tensor output;
                using (var current = DropoutGenerator.GetState())
                using (var replay = tensor(call.RngState!, ScalarType.Byte))
                {
                    DropoutGenerator.SetState(replay);
                    try
                    {
                        using var _ = enable_grad();
                        output = call.Block(inputs);
                    }
                    finally
                    {
                        DropoutGenerator.SetState(current);
                    }
                }

                var computed = torch.autograd.grad([output], [.. wrt.Select(w => w.Tensor)], [gradOutput], allow_unused: true);
                for (var k = 0; k < wrt.Count; k++)
                    if (computed[k] is { IsInvalid: false } g)
                        grads[wrt[k].Var] = g.MoveToOuterDisposeScope(); // must outlive this scope: TorchSharp reads them after we return
            }
            return [.. grads.Select(g => g!)];
        }
    }
}
