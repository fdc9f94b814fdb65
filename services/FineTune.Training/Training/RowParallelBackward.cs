using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using FineTune.Models;
using FineTune.Training.Model;
using FineTune.Training.Sft;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Training;

/// <summary>
/// Forward and backward of a step's micro-batches on CPU with the rows split into shards, one thread per shard, each
/// running libtorch with one intra-op thread. On the 2-core benchmark machine this gave 1.06–1.38× the tokens/s of one
/// batch over two intra-op threads (docs/training.md, "Row threads"): between libtorch's ops the second core idles, and
/// each op's fork and join costs a wake-up; a shard per core has neither.
/// <para>
/// The result does not depend on which thread finishes first: each shard's gradients come from <c>autograd.grad</c>
/// (not accumulated into <c>.grad</c> concurrently), a thread adds its shards in order, and the threads' sums are added
/// in thread order. Every row's loss is divided by the label tokens of the whole step, as the sequential path does.
/// </para>
/// <para>
/// LoRA dropout: each shard draws its masks from its own generator (<see cref="DropoutGenerator"/>), seeded by a number
/// drawn for that shard, before the threads start, from the generator dropout draws from on the calling thread (the
/// job's, or torch's global one). The masks then do not depend on thread timing, that generator advances the same way
/// every run (so a resumed checkpoint continues it), and only the masks differ from those of the one-batch path, as any
/// other seed's would. Not with gradient checkpointing (<see cref="ThreadsFor"/>).
/// </para>
/// </summary>
public static class RowParallelBackward
{
    /// <summary>
    /// Shard threads for a step: 1 (the sequential path) unless on CPU, in one process, without gradient
    /// checkpointing, with micro-batches of at least 2 rows; then <see cref="TrainingOptions.RowThreads"/>, or torch's
    /// intra-op thread count when that is 0, at most the micro-batch size.
    /// </summary>
    public static int ThreadsFor(TrainingOptions options, Device device, int worldSize)
    {
        if (options.RowThreads == 1 || options.Deterministic || device.type != DeviceType.CPU || worldSize > 1) return 1;
        if (options.GradientCheckpointing || options.MicroBatchSize < 2) return 1;
        var wanted = options.RowThreads > 0 ? options.RowThreads : torch.get_num_threads();
        return Math.Clamp(wanted, 1, options.MicroBatchSize);
    }

    /// <summary>
    /// Adds the gradients of Σ CE / <paramref name="lossDenominator"/> over every row of <paramref name="microBatches"/>
    /// into the <c>.grad</c> of <paramref name="parameters"/> and returns the loss sum and the real tokens.
    /// </summary>
    /// <param name="dropout">Whether the model draws dropout masks: then each shard gets its own seeded generator.</param>
    internal static (double LossSum, long Tokens) Accumulate(
        ITrainableCausalLM model, IReadOnlyList<IReadOnlyList<SftSequence>> microBatches, int threads, int lossDenominator,
        int padId, Device device, IReadOnlyList<Parameter> parameters, bool dropout)
    {
        var shards = microBatches.SelectMany(rows => Split(rows, threads)).Select(rows => new Shard(rows, dropout ? DrawSeed() : null)).ToList();
        var workers = Enumerable.Range(0, threads).Select(w => new ShardWorker(w, threads, shards, model, lossDenominator, padId, device, parameters)).ToList();
        var intraOpThreads = torch.get_num_threads();
        try
        {
            ShardThreads.RunAll([.. workers.Select(w => (Action)w.Run)]);
        }
        finally
        {
            // at::set_num_threads also stores the count that threads new to libtorch start with: restore it.
            torch.set_num_threads(intraOpThreads);
        }
        try
        {
            foreach (var w in workers) w.Failure?.Throw();
            AddInto(parameters, workers);
            return (workers.Sum(w => w.LossSum), workers.Sum(w => w.Tokens));
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }

    /// <summary>
    /// Long-lived threads for the shards, one per worker index: libtorch and MKL keep per-thread state (the intra-op
    /// thread count, GEMM packing buffers), which a fresh thread every step would build and free again.
    /// </summary>
    private static class ShardThreads
    {
        private static readonly List<BlockingCollection<(Action Work, CountdownEvent Done)>> Queues = [];
        private static readonly Lock Gate = new();

        /// <summary>Runs work[i] on thread i and returns when all have finished (each catches its own exceptions).</summary>
        public static void RunAll(IReadOnlyList<Action> work)
        {
            using var done = new CountdownEvent(work.Count);
            lock (Gate)
            {
                while (Queues.Count < work.Count) Queues.Add(Start(Queues.Count));
                for (var i = 0; i < work.Count; i++) Queues[i].Add((work[i], done));
                done.Wait();
            }
        }

        private static BlockingCollection<(Action, CountdownEvent)> Start(int index)
        {
            var queue = new BlockingCollection<(Action Work, CountdownEvent Done)>();
            new Thread(() =>
            {
                foreach (var (work, done) in queue.GetConsumingEnumerable())
                {
                    work();
                    done.Signal();
                }
            }) { Name = $"ft-rows-{index}", IsBackground = true }.Start();
            return queue;
        }
    }

    /// <summary>A seed for a shard's dropout generator, from the one dropout draws from on this thread.</summary>
    private static ulong DrawSeed()
    {
        using var seed = randint(int.MaxValue, [1], dtype: ScalarType.Int64, generator: DropoutGenerator.Current);
        return (ulong)seed.item<long>();
    }

    /// <summary>Rows run together on one thread, and the seed of their dropout masks (null: no dropout).</summary>
    private sealed record Shard(IReadOnlyList<SftSequence> Rows, ulong? DropoutSeed);

    /// <summary>The rows in <paramref name="parts"/> contiguous shards of near-equal size (none empty).</summary>
    public static IEnumerable<IReadOnlyList<SftSequence>> Split(IReadOnlyList<SftSequence> rows, int parts)
    {
        var n = Math.Min(parts, rows.Count);
        for (var k = 0; k < n; k++)
        {
            var (start, end) = (rows.Count * k / n, rows.Count * (k + 1) / n);
            yield return rows.Skip(start).Take(end - start).ToList();
        }
    }

    private static void AddInto(IReadOnlyList<Parameter> parameters, List<ShardWorker> workers)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (var i = 0; i < parameters.Count; i++)
        {
            var sum = workers.Where(w => w.Gradients is not null).Select(w => w.Gradients![i]).Aggregate((a, b) => a.add(b));
            if (parameters[i].grad is { } g)
            {
                g.add_(sum);
                g.Dispose();   // the handle .grad returned; the gradient itself stays with the parameter
            }
            else parameters[i].grad = sum.clone().MoveToOuterDisposeScope();
        }
    }

    /// <summary>One thread's work: shards index, index + threads, …; its gradient sum, loss sum and tokens, or its failure.</summary>
    private sealed class ShardWorker(int index, int threads, List<Shard> shards, ITrainableCausalLM model,
        int lossDenominator, int padId, Device device, IReadOnlyList<Parameter> parameters) : IDisposable
    {
        public int Index => index;

        public Tensor[]? Gradients { get; private set; }

        public double LossSum { get; private set; }

        public long Tokens { get; private set; }

        public ExceptionDispatchInfo? Failure { get; private set; }

        public void Run()
        {
            try
            {
                torch.set_num_threads(1);
                for (var s = index; s < shards.Count; s += threads) RunShard(shards[s]);
            }
            catch (Exception e)
            {
                Failure = ExceptionDispatchInfo.Capture(e);
            }
        }

        private void RunShard(Shard shard)
        {
            using var generator = shard.DropoutSeed is { } seed ? new Generator(seed) : null;
            using var masks = generator is null ? null : DropoutGenerator.Use(generator);
            using var scope = NewDisposeScope();
            using var denominator = lossDenominator.ToScalar();   // owned: alive until div has returned
            using var batch = SftBatch.Collate(shard.Rows, padId, device);
            var sum = CausalLmLoss.Sum(model, batch);
            var grads = torch.autograd.grad([sum.div(denominator)], [.. parameters]);
            LossSum += sum.item<float>();
            Tokens += batch.RealTokens;
            if (Gradients is null)
            {
                Gradients = [.. grads.Select(g => g.MoveToOuterDisposeScope())];
                return;
            }
            using var _ = no_grad();
            for (var i = 0; i < Gradients.Length; i++) Gradients[i].add_(grads[i]);
        }

        public void Dispose()
        {
            foreach (var g in Gradients ?? []) g.Dispose();
        }
    }
}
