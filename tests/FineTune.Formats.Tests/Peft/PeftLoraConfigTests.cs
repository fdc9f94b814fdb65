using FineTune.Formats.Peft;

namespace FineTune.Formats.Tests.Peft;

/// <summary>adapter_config.json read and written without TorchSharp (what the export reads modules_to_save from).</summary>
public sealed class PeftLoraConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new("peftconfig");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WhatIsWrittenReadsBackAsTheSameConfig()
    {
        var config = new PeftLoraConfig
        {
            Rank = 16, Alpha = 32, Dropout = 0.05, TargetModules = ["v_proj", "q_proj"], UseRsLora = true,
            ModulesToSave = ["lm_head"], BaseModel = "models/tiny",
        };
        File.WriteAllText(_dir.File(PeftLoraConfig.FileName), config.Serialize("0.17.1"));
        var read = PeftLoraConfig.ReadFolder(_dir.Path);
        Assert.Equal((16, 32.0, 0.05, true, "models/tiny"), (read.Rank, read.Alpha, read.Dropout, read.UseRsLora, read.BaseModel));
        Assert.Equal(["q_proj", "v_proj"], read.TargetModules);     // PEFT writes them sorted
        Assert.Equal(["lm_head"], read.ModulesToSave);
        Assert.Contains("\"lora_alpha\": 32,", File.ReadAllText(_dir.File(PeftLoraConfig.FileName)));
    }

    [Fact]
    public void AllLinearIsWrittenAsAStringAndReadAsTheOneTarget()
    {
        File.WriteAllText(_dir.File(PeftLoraConfig.FileName), new PeftLoraConfig { TargetModules = [PeftLoraConfig.AllLinear] }.Serialize("0.17.1"));
        Assert.Contains("\"target_modules\": \"all-linear\"", File.ReadAllText(_dir.File(PeftLoraConfig.FileName)));
        Assert.Equal([PeftLoraConfig.AllLinear], PeftLoraConfig.ReadFolder(_dir.Path).TargetModules);
    }

    [Theory]
    [InlineData("\"use_dora\": true", "use_dora")]
    [InlineData("\"peft_type\": \"IA3\"", "peft_type")]
    [InlineData("\"rank_pattern\": {\"q_proj\": 4}", "rank_pattern")]
    public void UnsupportedFeaturesAreRejectedByFieldName(string field, string named)
    {
        File.WriteAllText(_dir.File(PeftLoraConfig.FileName), $"{{\"r\": 4, \"target_modules\": [\"q_proj\"], {field}}}");
        var e = Assert.Throws<InvalidDataException>(() => PeftLoraConfig.ReadFolder(_dir.Path));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void AFolderWithoutTheConfigIsNotAnAdapter()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PeftLoraConfig.ReadFolder(_dir.Path));
        Assert.Contains(PeftLoraConfig.FileName, e.Message);
    }
}
