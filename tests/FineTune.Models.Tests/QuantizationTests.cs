using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>NF4 (code book, block absmax, packing, double quantization) and the int8 base, against values worked out by hand.</summary>
public class QuantizationTests
{
    [Fact]
    public void Nf4CodeBookIsTheSixteenPublishedValuesAscendingWithAnExactZero()
    {
        Assert.Equal(16, Nf4.CodeBook.Length);
        Assert.Equal(-1f, Nf4.CodeBook[0]);
        Assert.Equal(0f, Nf4.CodeBook[7]);
        Assert.Equal(1f, Nf4.CodeBook[15]);
        Assert.Equal(0.07958029955625534f, Nf4.CodeBook[8]);
        Assert.Equal(-0.6961928009986877f, Nf4.CodeBook[1]);
        for (var i = 1; i < 16; i++) Assert.True(Nf4.CodeBook[i] > Nf4.CodeBook[i - 1]);
    }

    [Fact]
    public void EachValueBecomesTheNearestCodeOfItsBlockScaledByTheBlockAbsmax()
    {
        using var scope = NewDisposeScope();
        // Block of 4: absmax 2 → scaled [1, -0.5, 0.05, 0.3]; nearest codes 15, 2 (-0.525), 8 (0.0796 vs 0: 0.05 is nearer 0.0796), 11 (0.338).
        // Block 2: absmax 4 → scaled [-1, 0.25, 0, 0.7]: codes 0, 10 (0.2461), 7, 14 (0.723).
        var w = tensor(new float[] { 2, -1, 0.1f, 0.6f, -4, 1, 0, 2.8f }, [2, 4]);
        using var q = Nf4.Quantize(w, blockSize: 4, doubleQuant: false);

        Assert.Equal(new byte[] { 15, 2, 8, 11, 0, 10, 7, 14 }, q.Codes().data<byte>().ToArray());
        Assert.Equal(new byte[] { 0xF2, 0x8B, 0x0A, 0x7E }, q.Packed.data<byte>().ToArray());   // first code in the high nibble
        Assert.Equal(new float[] { 2, 4 }, q.Scales.Absmax!.data<float>().ToArray());
        var expected = new[] { 15, 2, 8, 11 }.Select(c => Nf4.CodeBook[c] * 2f).Concat(new[] { 0, 10, 7, 14 }.Select(c => Nf4.CodeBook[c] * 4f)).ToArray();
        Assert.Equal(expected, q.Dequantize(ScalarType.Float32).data<float>().ToArray());
    }

    /// <summary>A full block, a partial last block (odd element count), double quantization on and off, and enough blocks that
    /// two threads share them.</summary>
    [Theory]
    [InlineData(96, 80, false, 1)]
    [InlineData(7, 13, false, 1)]
    [InlineData(7, 13, true, 1)]
    [InlineData(600, 1000, true, 2)]
    public void CpuDequantizationIsBitEqualToTheTensorForm(int rows, int columns, bool doubleQuant, int threads)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var q = Nf4.Quantize(randn(rows, columns), doubleQuant: doubleQuant);
        var before = get_num_threads();
        set_num_threads(threads);
        try
        {
            var cpu = q.Dequantize(ScalarType.Float32);
            Assert.Equal(new long[] { rows, columns }, cpu.shape);
            Assert.Equal(q.DequantizeWithTensors(ScalarType.Float32).data<float>().ToArray(), cpu.data<float>().ToArray());
            Assert.Equal(q.DequantizeWithTensors(ScalarType.BFloat16).bytes.ToArray(), q.Dequantize(ScalarType.BFloat16).bytes.ToArray());
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [Fact]
    public void RoundTripEqualsTheBruteForceNearestCodeAndItsErrorIsStated()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var w = randn(96, 80);   // 7,680 values, 120 blocks of 64
        using var q = Nf4.Quantize(w, doubleQuant: false);
        var ours = q.Dequantize(ScalarType.Float32).flatten().data<float>().ToArray();
        var values = w.flatten().data<float>().ToArray();

        double sumSquares = 0, sumValues = 0;
        for (var b = 0; b < values.Length / 64; b++)
        {
            var block = values.AsSpan(b * 64, 64).ToArray();
            var absmax = block.Max(Math.Abs);
            for (var i = 0; i < 64; i++)
            {
                var scaled = block[i] / absmax;
                var nearest = Nf4.CodeBook.MinBy(c => Math.Abs(c - scaled));
                Assert.Equal(nearest * absmax, ours[b * 64 + i], 6);
                sumSquares += Math.Pow(ours[b * 64 + i] - block[i], 2);
                sumValues += block[i] * block[i];
            }
        }
        // The stated error of NF4 on N(0, 1) weights, block 64: the relative RMS error of the round trip is in [0.08, 0.11].
        var relativeRms = Math.Sqrt(sumSquares / sumValues);
        Assert.InRange(relativeRms, 0.08, 0.11);
    }

    [Fact]
    public void ALengthThatIsNoMultipleOfTheBlockIsPaddedAndCutBack()
    {
        using var scope = NewDisposeScope();
        var w = arange(1, 11, dtype: ScalarType.Float32).view(2, 5);   // 10 values, blocks of 4 → 3 blocks
        using var q = Nf4.Quantize(w, blockSize: 4, doubleQuant: false);
        Assert.Equal(6, q.Packed.shape[0]);
        Assert.Equal(3, q.Scales.Count);
        var back = q.Dequantize(ScalarType.Float32);
        Assert.Equal(new long[] { 2, 5 }, back.shape);
        Assert.Equal(10f, back[1, 4].item<float>());   // the largest of the last block is its absmax: exact
    }

    [Fact]
    public void DoubleQuantizedScalesStayWithinTheEightBitCodesResolution()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var w = randn(512, 256);   // 2,048 blocks → 8 second-level blocks of 256
        using var plain = Nf4.Quantize(w, doubleQuant: false);
        using var dq = Nf4.Quantize(w, doubleQuant: true);
        Assert.True(dq.Scales.IsDoubleQuantized);
        Assert.Equal(8, dq.Scales.Absmax2!.shape[0]);
        var exact = plain.Scales.Absmax!;
        var restored = dq.Scales.Dequantize();
        var error = (restored - exact).abs().max().item<float>();
        var spread = (exact - exact.mean()).abs().max().item<float>();
        Assert.True(error <= spread * 0.02f, $"max scale error {error} vs spread {spread}");
        // 4 bytes per block become 1 byte plus 4 per 256 blocks: QLoRA's 0.5 → 0.127 bit per weight.
        Assert.Equal(2048 * 4, plain.Scales.StorageBytes);
        Assert.Equal(2048 + 8 * 4 + 4, dq.Scales.StorageBytes);
    }

    [Fact]
    public void DynamicCodeHas256SortedValuesFromMinusOneToOneWithZero()
    {
        var code = DynamicCode.Signed;
        Assert.Equal(256, code.Length);
        Assert.Equal(1f, code[^1]);
        Assert.Contains(0f, code);
        Assert.True(code[0] > -1f && code[0] < -0.9f, $"smallest {code[0]}");
        for (var i = 1; i < code.Length; i++) Assert.True(code[i] >= code[i - 1]);
    }

    [Fact]
    public void Int8RowWiseErrorIsAtMostHalfAStepOfEachRow()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1.27f, -0.5f, 0.01f, -254f, 100f, 3f }, [2, 3]);
        using var q = Int8RowWise.Quantize(w);
        Assert.Equal(new sbyte[] { 127, -50, 1, -127, 50, 2 }, q.Values.data<sbyte>().ToArray());
        Assert.Equal(new[] { 0.01f, 2f }, q.Scales.data<float>().ToArray());
        var back = q.Dequantize(ScalarType.Float32);
        var step = q.Scales.unsqueeze(1);
        Assert.True(((back - w).abs() <= step / 2 + 1e-6f).all().item<bool>());
    }

    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public void QuantizedLinearComputesWithTheDequantizedWeightAndKeepsTheBias(QuantizationKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        var linear = nn.Linear(64, 24, hasBias: true);
        using var quantized = new QuantizedLinear(linear, new BaseQuantization { Kind = kind });
        var x = randn(3, 5, 64);
        var expected = nn.functional.linear(x, quantized.DequantizeWeight(ScalarType.Float32), linear.bias!);
        using var _ = no_grad();
        Assert.True(quantized.call(x).allclose(expected, rtol: 0, atol: 1e-6));
        Assert.Empty(quantized.parameters());
        var plain = quantized.ToLinear();
        Assert.True(plain.weight!.allclose(quantized.DequantizeWeight(ScalarType.Float32), rtol: 0, atol: 0));
        Assert.True(plain.bias!.allclose(linear.bias!, rtol: 0, atol: 0));
        Assert.True(quantized.StorageBytes < 64 * 24 * 4 / 3);
    }

    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public void TheInputGradientEqualsThatOfAPlainLinearOverTheDequantizedWeight(QuantizationKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(10);
        using var quantized = new QuantizedLinear(nn.Linear(48, 16, hasBias: true), new BaseQuantization { Kind = kind });
        var x = randn(2, 3, 48, requires_grad: true);
        var upstream = randn(2, 3, 16);
        (quantized.call(x) * upstream).sum().backward();
        var ours = x.grad!.clone();

        var reference = x.detach().clone().requires_grad_(true);
        (nn.functional.linear(reference, quantized.DequantizeWeight(ScalarType.Float32), quantized.Bias(ScalarType.Float32)) * upstream).sum().backward();
        Assert.True(ours.allclose(reference.grad!, rtol: 0, atol: 1e-5));
    }

    /// <summary>NF4 weights on the CPU are dequantized into reused scratch buffers: a layer's backward must still see its own
    /// weight after other layers (smaller and larger ones) have used the buffers since its forward.</summary>
    [Fact]
    public void StackedNf4LayersGetTheirOwnWeightsBackInBackward()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        var layers = new[] { (64, 32), (32, 128), (128, 16) }
            .Select(s => new QuantizedLinear(nn.Linear(s.Item1, s.Item2, hasBias: false), new BaseQuantization { Kind = QuantizationKind.Nf4 }))
            .ToList();
        var x = randn(4, 64, requires_grad: true);
        var upstream = randn(4, 16);
        var h = x;
        foreach (var layer in layers) h = layer.call(h);
        (h * upstream).sum().backward();

        var reference = x.detach().clone().requires_grad_(true);
        var r = reference;
        foreach (var layer in layers) r = nn.functional.linear(r, layer.DequantizeWeight(ScalarType.Float32));
        Assert.True(h.allclose(r, rtol: 0, atol: 1e-5));
        (r * upstream).sum().backward();
        Assert.True(x.grad!.allclose(reference.grad!, rtol: 0, atol: 1e-5));
        layers.ForEach(l => l.Dispose());
    }

    [Theory]
    [InlineData("nf4", QuantizationKind.Nf4)]
    [InlineData("INT8", QuantizationKind.Int8)]
    [InlineData("none", QuantizationKind.None)]
    [InlineData(null, QuantizationKind.None)]
    public void JobFileNamesParse(string? name, QuantizationKind kind) => Assert.Equal(kind, BaseQuantization.ParseKind(name));

    [Fact]
    public void UnknownNamesDoNotParse()
    {
        Assert.Null(BaseQuantization.ParseKind("fp4"));
        Assert.Null(BaseQuantization.ParseComputeDType("float8"));
    }
}
