using Inference.Api.Apis;
using Inference.Api.Services;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddInferenceServices();

var app = builder.Build();

app.UseOpenAiErrors();
app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapChatCompletionsApi();

app.Run();

/// <summary>Entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
