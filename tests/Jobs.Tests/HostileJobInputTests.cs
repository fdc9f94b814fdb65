using System.Net;
using System.Text;
using System.Text.Json;

namespace Jobs.Tests;

/// <summary>Invalid UTF-8 through the job entry points (multipart create, the JSON body, ft submit): a 400 naming line 2 and UTF-8, nothing stored.</summary>
[Collection(JobsCollection.Name)]
public sealed class HostileJobInputTests(JobsTestBed bed)
{
    private static readonly byte[] InvalidUtf8OnLine2 =
    [
        .. "{\"input\": \"q1\", \"output\": \"a1\"}\n{\"input\": \"q"u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\", \"output\": \"a2\"}\n"u8,
    ];

    private string[] Datasets() =>
        Directory.Exists(Path.Combine(bed.DataRoot, "datasets")) ? Directory.GetDirectories(Path.Combine(bed.DataRoot, "datasets")) : [];

    private async Task<int> JobCountAsync() => JsonDocument.Parse(await bed.Http.GetStringAsync("/api/jobs")).RootElement.GetArrayLength();

    [Fact]
    public async Task MultipartJobWithAnInvalidUtf8DatasetIsA400NamingLine2()
    {
        var (datasets, jobs) = (Datasets(), await JobCountAsync());
        using var form = new MultipartFormDataContent
        {
            { new StringContent(JsonSerializer.Serialize(JobsTestBed.Options(maxSteps: 2)), Encoding.UTF8, "application/json"), "job" },
            { new ByteArrayContent(InvalidUtf8OnLine2), "file", "bad.jsonl" },
        };

        using var response = await bed.Http.PostAsync("/api/jobs", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JobsTestBed.ReadJsonAsync(response);
        Assert.Contains("line 2", problem.GetProperty("detail").GetString());
        Assert.Contains("UTF-8", problem.GetProperty("detail").GetString());
        Assert.Equal(2, problem.GetProperty("errors")[0].GetProperty("line").GetInt64());
        Assert.Equal(datasets, Datasets());
        Assert.Equal(jobs, await JobCountAsync());
    }

    [Fact]
    public async Task JobOptionsWithInvalidUtf8AreA400NamingTheLine()
    {
        var jobs = await JobCountAsync();
        byte[] body = [.. "{\n \"model\": \"nano\",\n \"dataset\": \"x"u8, 0xC3, 0x28, .. "\"\n}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await bed.Http.PostAsync("/api/jobs", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await JobsTestBed.ReadJsonAsync(response)).GetProperty("detail").GetString();
        Assert.Contains("line 3", detail);
        Assert.Contains("UTF-8", detail);
        Assert.Equal(jobs, await JobCountAsync());
    }

    [Fact]
    public async Task FtSubmitOfAnInvalidUtf8FileSaysLine2AndUtf8()
    {
        using var work = new TempDirectory("ft-hostile-submit");
        var data = Path.Combine(work.Path, "bad.jsonl");
        await File.WriteAllBytesAsync(data, InvalidUtf8OnLine2);
        var datasets = Datasets();

        var (code, stdout, err) = await FtProcess.RunAsync(["submit", data, "--model", "nano"], bed.Http.BaseAddress);

        Assert.Equal(1, code);
        Assert.Contains("400", err);
        Assert.Contains("line 2", err);
        Assert.Contains("UTF-8", err);
        Assert.DoesNotContain("   at ", err);
        Assert.Equal("", stdout.Trim());
        Assert.Equal(datasets, Datasets());
    }
}
