// Writes quantized tensors into the GGUF file in plan order on a background task while the caller quantizes the next
// ones. Up to Depth buffers circulate (one being filled, the rest queued or being written, at most MaxQueuedBytes
// queued), so a large tensor's write (a model's embedding) overlaps the quantization of several small ones after it
// instead of stalling the next one.
using FineTune.Formats.Gguf;

namespace FineTune.Export.Gguf;

public sealed class TensorWriteQueue(GgufWriter writer)
{
    private const int Depth = 4;

    /// <summary>Queued bytes beyond which the caller waits: the queue smooths sizes, it does not hold a model.</summary>
    private const long MaxQueuedBytes = 256L << 20;

    private readonly Queue<(Task Write, byte[] Buffer)> _inFlight = new();
    private readonly List<byte[]> _free = [];
    private Task _last = Task.CompletedTask;

    /// <summary>A buffer of at least <paramref name="length"/> bytes that no queued write uses; waits for the oldest write when all are queued.</summary>
    public byte[] Rent(int length)
    {
        while (_inFlight.Count >= Depth - 1 || (_inFlight.Count > 0 && _inFlight.Sum(q => (long)q.Buffer.Length) + length > MaxQueuedBytes))
        {
            var (write, buffer) = _inFlight.Dequeue();
            write.GetAwaiter().GetResult();   // a failed write stops the caller here
            _free.Add(buffer);
        }
        var fit = _free.Where(b => b.Length >= length).MinBy(b => b.Length);
        if (fit is null)
        {
            if (_free.Count > 0) _free.Remove(_free.MaxBy(b => b.Length)!);   // too small: replaced, so at most Depth buffers exist
            fit = GC.AllocateUninitializedArray<byte>(length);
        }
        else _free.Remove(fit);
        return fit;
    }

    /// <summary>Queues <paramref name="buffer"/>[..<paramref name="length"/>] as tensor <paramref name="name"/>'s data, after every write queued before it.</summary>
    public void Enqueue(string name, byte[] buffer, int length)
    {
        _last = _last.ContinueWith(previous =>
        {
            previous.GetAwaiter().GetResult();   // after a failure, nothing more is written
            writer.WriteTensorData(name, buffer.AsSpan(0, length));
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _inFlight.Enqueue((_last, buffer));
    }

    /// <summary>Waits for every queued write; rethrows the first failure.</summary>
    public void Complete() => _last.GetAwaiter().GetResult();

    /// <summary>Waits for every queued write without throwing: the writer must not be disposed while one is running.</summary>
    public void WaitQuietly() => _last.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
}
