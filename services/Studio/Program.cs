using Studio.Apis;
using Studio.Auth;
using Studio.Services;

var builder = WebApplication.CreateBuilder(args);

builder.UseLoopbackByDefault();
builder.AddServiceDefaults();
builder.AddStudioServices();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();
app.MapLogin();
app.MapPages();
app.MapFrontDoorProxy();
app.MapChatProxy();

app.Run();

/// <summary>Entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
