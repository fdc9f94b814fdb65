using FineTune.Formats.Peft;

namespace FineTune.Formats.Tests.Peft;

/// <summary>base_quantization.json read and written without TorchSharp.</summary>
public sealed class BaseQuantizationConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new("basequant");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WhatIsWrittenReadsBackAndAnAbsentFileMeansAFullPrecisionBase()
    {
        Assert.Null(BaseQuantizationConfig.Read(_dir.Path));
        var config = new BaseQuantizationConfig { FourBit = true, DoubleQuant = true, BlockSize = 64, ComputeDType = "bfloat16" };
        config.Write(_dir.Path);
        Assert.Equal(config, BaseQuantizationConfig.Read(_dir.Path));
        Assert.Contains("\"quant_method\": \"bitsandbytes\"", File.ReadAllText(_dir.File(BaseQuantizationConfig.FileName)));
    }

    [Theory]
    [InlineData("""{"load_in_4bit": true, "load_in_8bit": true}""", "exactly one of load_in_4bit and load_in_8bit")]
    [InlineData("""{"load_in_4bit": true, "bnb_4bit_quant_type": "fp4"}""", "'fp4' is not supported")]
    [InlineData("""{"load_in_8bit": "yes"}""", "base_quantization.json")]
    public void AFileThisEngineCannotHonourIsRejectedSayingWhy(string json, string expected)
    {
        File.WriteAllText(_dir.File(BaseQuantizationConfig.FileName), json);
        var e = Assert.Throws<InvalidDataException>(() => BaseQuantizationConfig.Read(_dir.Path));
        Assert.Contains(expected, e.Message);
    }
}
