// Our own AppHost engine: the last N console lines of one instance (Aspire keeps 10,000 per resource).

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class ConsoleLog(int capacity)
{
    private readonly Queue<ConsoleLine> _lines = new();

    public void Add(ConsoleLine line)
    {
        lock (_lines)
        {
            if (_lines.Count == capacity)
                _lines.Dequeue();
            _lines.Enqueue(line);
        }
    }

    public ConsoleLine[] Snapshot()
    {
        lock (_lines)
            return [.. _lines];
    }
}
