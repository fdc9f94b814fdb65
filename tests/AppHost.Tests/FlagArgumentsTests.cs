using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Tests;

public sealed class FlagArgumentsTests
{
    [Fact]
    public void NoDemoFlagTurnsTheDemoOffAndLeavesTheOtherSwitchesParsed()
    {
        var builder = DistributedApplication.CreateBuilder(["--no-demo", "--publisher", "manifest", "--output-path", "../out.json"]);
        Assert.Equal("false", builder.Configuration["FineTune:Demo:Enabled"]);
        Assert.Equal("manifest", builder.ExecutionContext.PublisherName);
        Assert.Equal("../out.json", builder.ExecutionContext.OutputPath);
    }

    [Fact]
    public void WithoutTheFlagTheDemoSettingComesFromConfiguration()
    {
        Assert.Null(DistributedApplication.CreateBuilder([]).Configuration["FineTune:Demo:Enabled"]);
        Assert.Equal("false", DistributedApplication.CreateBuilder(["--FineTune:Demo:Enabled=false"]).Configuration["FineTune:Demo:Enabled"]);
    }
}
