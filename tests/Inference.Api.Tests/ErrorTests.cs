using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Inference.Api.Services;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace Inference.Api.Tests;

/// <summary>Bad input gets a 4xx with OpenAI's error body naming the field; never a 5xx or a stack trace.</summary>
[Collection(InferenceCollection.Name)]
public sealed class ErrorTests(InferenceHost host)
{
    public static TheoryData<string, string?, string> BadBodies => new()
    {
        { "{not json", null, "not valid JSON" },
        { "[1,2]", null, "JSON object" },
        { """{"messages":[{"role":"user","content":"hi"}]}""", "model", "'model' is required" },
        { """{"model":"models/tiny-llama"}""", "messages", "'messages' is required" },
        { """{"model":"models/tiny-llama","messages":[]}""", "messages", "at least one" },
        { """{"model":"models/tiny-llama","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", "'wizard'" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user"}]}""", "messages[0].content", "content is required" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0]", "image_url" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"temperature":7}""", "temperature", "between 0 and 2" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature", "a number" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens", "at least 1" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"max_tokens":100000}""", "max_tokens", "at most 256" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"n":3}""", "n", "n must be 1" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"stop":[1]}""", "stop", "array of strings" },
        { """{"model":"models/tiny-llama","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream", "true or false" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadRequestsAre400WithTheOpenAiErrorShapeNamingTheField(string body, string? param, string message)
    {
        using var http = host.CreateHttpClient();
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        var error = await ErrorOf(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task UnknownModelIs404ModelNotFoundAlsoWhenStreaming()
    {
        using var http = host.CreateHttpClient();
        foreach (var stream in new[] { false, true })
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                new { model = "job-nope", stream, messages = new[] { new { role = "user", content = "hi" } } });
            var error = await ErrorOf(response);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("model_not_found", error.GetProperty("code").GetString());
            Assert.Contains("job-nope", error.GetProperty("message").GetString());
        }
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("models/..")]
    [InlineData("models/../../x")]
    [InlineData(".hidden:base")]
    public async Task IdsThatCouldLeaveTheDataRootAreUnknownModels(string model)
    {
        using var http = host.CreateHttpClient();
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", (await ErrorOf(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task TheOpenAiClientSeesTheStatusOfABadRequest()
    {
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.BaseModel);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")],
            new ChatCompletionOptions { Temperature = 5 }));
        Assert.Equal(400, e.Status);
        Assert.Contains("temperature", e.Message);
    }

    [Fact]
    public async Task UnknownRouteIs404WithTheErrorShape()
    {
        using var http = host.CreateHttpClient();
        using var response = await http.GetAsync("/v1/engines");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", (await ErrorOf(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task AtMostTheConfiguredNumberOfModelsStayLoaded()
    {
        var client = host.CreateOpenAiClient();
        foreach (var model in new[] { InferenceHost.BaseModel, InferenceHost.JobId, InferenceHost.JobId + ":base" })
            await client.GetChatClient(model).CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });

        var cache = host.Services.GetRequiredService<ModelCache>();
        Assert.Equal(2, cache.Capacity);
        Assert.Equal([InferenceHost.JobId + ":base", InferenceHost.JobId], cache.Loaded);
    }

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("   at ", text); // no stack trace
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("error");
    }
}
