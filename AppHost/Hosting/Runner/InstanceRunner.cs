// Our own AppHost engine: one process of a resource (one replica). It starts the process, probes its health, and
// when the process dies without being asked to, starts it again after an exponential backoff (1s, 2s, 4s … 30s),
// counting restarts. The backoff resets once a process has stayed up for 30 seconds.

using System.Security.Cryptography;

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class InstanceRunner
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly ResourceRunner _owner;
    private readonly Func<int, string, LaunchSpec> _spec;
    private readonly object _gate = new();
    private CancellationTokenSource? _run;
    private Task? _supervisor;
    private ChildProcess? _process;
    private TimeSpan _grace = TimeSpan.FromSeconds(10);

    public InstanceRunner(ResourceRunner owner, int index, Func<int, string, LaunchSpec> spec, int consoleCapacity)
    {
        _owner = owner;
        Index = index;
        _spec = spec;
        InstanceId = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 8);
        Log = new ConsoleLog(consoleCapacity);
    }

    public int Index { get; }

    /// <summary>The service.instance.id of this replica (8 lowercase characters, as Aspire's DCP suffix).</summary>
    public string InstanceId { get; }

    public ConsoleLog Log { get; }

    public string State { get; private set; } = "NotStarted";

    public string? Health { get; private set; }

    public string? LastHealthReason { get; private set; }

    public int Restarts { get; private set; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Pid : null;

    public DateTimeOffset? StartedAt { get; private set; }

    public int? LastExitCode { get; private set; }

    /// <summary>Set the first time the instance reports healthy after each (re)start request.</summary>
    public TaskCompletionSource HealthyOnce { get; private set; } = NewSignal();

    public void Start()
    {
        lock (_gate)
        {
            if (_supervisor is { IsCompleted: false })
                return;
            _run = new CancellationTokenSource();
            HealthyOnce = NewSignal();
            var token = _run.Token;
            _supervisor = Task.Run(() => SuperviseAsync(token), CancellationToken.None);
        }
    }

    /// <summary>Stops the process (SIGTERM to its group, then SIGKILL after <paramref name="grace"/>) and does not restart it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Task? supervisor;
        lock (_gate)
        {
            if (_run is null)
                return;
            _grace = grace;
            _run.Cancel();
            supervisor = _supervisor;
        }
        if (supervisor is not null)
            await supervisor.ConfigureAwait(false);
        lock (_gate)
        {
            _run?.Dispose();
            _run = null;
        }
    }

    private async Task SuperviseAsync(CancellationToken token)
    {
        var crashes = 0;
        while (!token.IsCancellationRequested)
        {
            SetState("Starting");
            Health = null;
            ChildProcess process;
            try
            {
                process = ChildProcess.Start(_spec(Index, InstanceId), (text, isError) => OnLine(text, isError));
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                LastHealthReason = ex.Message;
                SetState("FailedToStart");
                _owner.ReportStartFailure(this, ex.Message);
                return;
            }
            lock (_gate)
                _process = process;
            var started = DateTimeOffset.UtcNow;
            StartedAt = started;
            SetState("Running");

            using var probing = CancellationTokenSource.CreateLinkedTokenSource(token);
            var probe = ProbeLoopAsync(probing.Token);
            int exitCode;
            try
            {
                exitCode = await process.Exited.WaitAsync(token);
            }
            catch (OperationCanceledException)
            {
                probing.Cancel();
                await probe;
                SetState("Stopping");
                LastExitCode = await process.StopAsync(_grace);
                break;
            }
            finally
            {
                probing.Cancel();
                await probe;
            }
            LastExitCode = exitCode;
            process.Kill(); // anything left in its process group
            process.Dispose();
            lock (_gate)
                _process = null;
            if (token.IsCancellationRequested)
                break;

            crashes = DateTimeOffset.UtcNow - started > StableAfter ? 1 : crashes + 1;
            var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, crashes - 1)));
            Health = null;
            SetState("Exited");
            _owner.ReportCrash(this, exitCode, delay);
            try
            {
                await Task.Delay(delay, token); // the backoff itself, not a synchronisation
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Restarts++;
        }
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }
        Health = null;
        SetState("Exited");
    }

    private async Task ProbeLoopAsync(CancellationToken token)
    {
        var probe = _owner.Probe;
        if (probe is null)
        {
            Health = "Healthy";
            HealthyOnce.TrySetResult();
            _owner.Changed();
            return;
        }
        var context = _owner.ProbeContext(Index);
        while (!token.IsCancellationRequested)
        {
            HealthProbeResult result;
            try
            {
                result = await probe.ProbeAsync(context, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var health = result.Healthy ? "Healthy" : "Unhealthy";
            LastHealthReason = result.Reason;
            if (health != Health)
            {
                Health = health;
                _owner.Changed();
            }
            if (result.Healthy)
                HealthyOnce.TrySetResult();
            try
            {
                await Task.Delay(result.Healthy ? _owner.HealthInterval : TimeSpan.FromMilliseconds(250), token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnLine(string text, bool isError)
    {
        var line = new ConsoleLine(_owner.Resource.Name, InstanceId, DateTimeOffset.UtcNow, isError, text);
        Log.Add(line);
        _owner.Line(line);
    }

    private void SetState(string state)
    {
        if (State == state)
            return;
        State = state;
        _owner.Changed();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InstanceSnapshot Snapshot(string? endpoint) => new(InstanceId, ProcessId, State, Restarts, StartedAt, endpoint);
}
