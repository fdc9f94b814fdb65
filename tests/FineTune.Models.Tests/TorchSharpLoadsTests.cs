using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

public class TorchSharpLoadsTests
{
    [Fact]
    public void NativeLibraryLoadsAndMultipliesTwoMatrices()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var b = tensor(new float[] { 7, 8, 9, 10, 11, 12 }, [3, 2]);

        var c = a.matmul(b);

        Assert.Equal(new long[] { 2, 2 }, c.shape);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, c.data<float>().ToArray());
    }
}
