using FineTune.Export.Gguf;
using FineTune.Formats.Gguf;
using FineTune.Tests;

namespace FineTune.Export.Tests;

/// <summary>The export's background writer: tensors land in plan order with their own bytes, and a failed write stops the rest.</summary>
public sealed class TensorWriteQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void QueuedTensorsAreWrittenInOrderWithTheirOwnBytesWhileBuffersAreReused()
    {
        var sizes = new[] { 4096, 64, 128, 8192, 32, 32, 2048, 96, 4096, 64 };   // a large one, then small ones, as an embedding and norms
        var path = _dir.File("queue.gguf");
        using (var w = new GgufWriter(path))
        {
            for (var i = 0; i < sizes.Length; i++) w.AddTensorInfo($"t{i}", [sizes[i]], GgmlType.F32);
            w.WriteHeader();
            var writes = new TensorWriteQueue(w);
            var buffers = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < sizes.Length; i++)
            {
                var bytes = writes.Rent(sizes[i] * 4);
                buffers.Add(bytes);
                Array.Fill(bytes, (byte)(i + 1), 0, sizes[i] * 4);
                writes.Enqueue($"t{i}", bytes, sizes[i] * 4);
            }
            writes.Complete();
            w.Commit();
            Assert.True(buffers.Count < sizes.Length, $"{buffers.Count} buffers for {sizes.Length} tensors: none was reused");
        }
        using var r = GgufReader.Open(path);
        for (var i = 0; i < sizes.Length; i++)
            Assert.All(r.ReadTensorBytes($"t{i}"), b => Assert.Equal((byte)(i + 1), b));
    }

    [Fact]
    public void AFailedWriteSurfacesAndNothingAfterItIsWritten()
    {
        using var w = new GgufWriter(_dir.File("fail.gguf"));
        foreach (var name in new[] { "a", "b", "c" }) w.AddTensorInfo(name, [8], GgmlType.F32);
        w.WriteHeader();
        var writes = new TensorWriteQueue(w);
        writes.Enqueue("a", writes.Rent(32), 32);
        writes.Enqueue("c", writes.Rent(32), 32);   // out of order: the writer refuses it
        writes.Enqueue("b", writes.Rent(32), 32);
        var error = Assert.Throws<InvalidOperationException>(writes.Complete);
        Assert.Contains("expected 'b', got 'c'", error.Message);
        writes.WaitQuietly();
        Assert.Equal("b", w.NextTensorName);
    }
}
