using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Optim.Soak;
using TorchSharp;

// Optimizer soak (issue 13). Usage:
//   dotnet run -c Release --project bench/Optim.Soak -- [--optimizer ours|torchsharp] [--jobs 400] [--steps 500]
//                                                       [--parallel 8] [--seeds 16] [--gc-ms 2]
// Each seed's job is first run once quietly (one thread, no pressure) as the reference; then --jobs jobs run, --parallel
// at a time on thread-pool threads, under GC pressure. A job fails when it throws or when its final parameters differ
// in any bit from its seed's reference (a Scalar read after it was freed can also give a wrong value and no exception).
var options = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(x => x.a[2..], x => x.i + 1 < args.Length ? args[x.i + 1] : "");
string Option(string name, string fallback) => options.TryGetValue(name, out var v) ? v : fallback;
var kind = Enum.Parse<OptimizerKind>(Option("optimizer", "ours"), ignoreCase: true);
var jobs = int.Parse(Option("jobs", "400"));
var steps = int.Parse(Option("steps", "500"));
var parallel = int.Parse(Option("parallel", "8"));
var seeds = int.Parse(Option("seeds", "16"));
var gcMs = int.Parse(Option("gc-ms", "2"));

torch.set_num_threads(1);
var references = new byte[seeds][];
for (var s = 0; s < seeds; s++) references[s] = await SoakJob.RunAsync(kind, s, steps, hopThreads: false);

var errors = new ConcurrentDictionary<string, int>();
var (failedJobs, wrongJobs, doneSteps) = (0, 0, 0L);
var clock = Stopwatch.StartNew();
var gen0 = GC.CollectionCount(0);
long forced;
using (var pressure = new GcPressure(gcMs))
using (var gate = new SemaphoreSlim(parallel))
{
    var tasks = Enumerable.Range(0, jobs).Select(j => Task.Run(async () =>
    {
        await gate.WaitAsync();
        try
        {
            var result = await SoakJob.RunAsync(kind, j % seeds, steps, hopThreads: true);
            Interlocked.Add(ref doneSteps, steps);
            if (!result.AsSpan().SequenceEqual(references[j % seeds])) Interlocked.Increment(ref wrongJobs);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref failedJobs);
            errors.AddOrUpdate($"{e.GetType().Name}: {e.Message.Split('\n')[0]}", 1, (_, n) => n + 1);
        }
        finally
        {
            gate.Release();
        }
    })).ToList();
    await Task.WhenAll(tasks);
    forced = pressure.Collections;
}
clock.Stop();

var report = new
{
    optimizer = kind.ToString(), jobs, stepsPerJob = steps, parallel, optimizerStepsCompleted = doneSteps,
    jobsThatThrew = failedJobs, jobsWithWrongResult = wrongJobs, exceptions = errors.Values.Sum(),
    wallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), stepsPerSecond = Math.Round(doneSteps / clock.Elapsed.TotalSeconds),
    forcedCollections = forced, gen0Collections = GC.CollectionCount(0) - gen0,
    errorMessages = errors.OrderByDescending(e => e.Value).Take(5).ToDictionary(e => e.Key, e => e.Value),
};
Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
return failedJobs + wrongJobs == 0 ? 0 : 1;
