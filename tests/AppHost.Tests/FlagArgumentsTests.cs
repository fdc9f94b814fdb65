using Aspire.Hosting;
using FineTune.AppHost.Demo;

namespace FineTune.AppHost.Tests;

public sealed class FlagArgumentsTests
{
    [Fact]
    public void NoDemoFlagTurnsTheDemoOffAndLeavesTheOtherSwitchesParsed()
    {
        var builder = DistributedApplication.CreateBuilder(AppHostArguments.Expand(["--no-demo", "--publisher", "manifest", "--output-path", "../out.json"]));
        Assert.Equal("false", builder.Configuration["FineTune:Demo:Enabled"]);
        Assert.Equal("manifest", builder.ExecutionContext.PublisherName);
        Assert.True(builder.ExecutionContext.IsPublishMode);
    }

    [Fact]
    public void WithoutTheFlagTheDemoSettingComesFromConfiguration()
    {
        Assert.Null(DistributedApplication.CreateBuilder(AppHostArguments.Expand([])).Configuration["FineTune:Demo:Enabled"]);
        Assert.Equal("false", DistributedApplication.CreateBuilder(AppHostArguments.Expand(["--FineTune:Demo:Enabled=false"])).Configuration["FineTune:Demo:Enabled"]);
    }
}
