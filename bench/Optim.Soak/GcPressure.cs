namespace Optim.Soak;

/// <summary>
/// What a trainer process does besides the optimizer (JSON, Redis, the data pipeline), exaggerated: a thread that churns
/// short-lived allocations and forces a full collection every few milliseconds, so finalizers run while native code works.
/// </summary>
internal sealed class GcPressure : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public GcPressure(int collectEveryMs)
    {
        _thread = new Thread(() => Churn(collectEveryMs, _stop.Token)) { IsBackground = true, Name = "gc-pressure" };
        _thread.Start();
    }

    public long Collections { get; private set; }

    private void Churn(int collectEveryMs, CancellationToken stop)
    {
        var keep = new byte[64][];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            keep[i % keep.Length] = new byte[1024 + i % 65536];
            if (clock.ElapsedMilliseconds < collectEveryMs) continue;
            GC.Collect();
            Collections++;
            clock.Restart();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
