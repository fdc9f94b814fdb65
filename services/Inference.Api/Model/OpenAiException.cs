namespace Inference.Api.Model;

/// <summary>
/// A request the API refuses, answered as OpenAI does: <c>{"error": {"message", "type", "param", "code"}}</c> with
/// <see cref="Status"/> (400 bad input, 404 unknown model or route).
/// </summary>
public sealed class OpenAiException(int status, string message, string? param = null, string? code = null,
    string type = OpenAiException.InvalidRequest) : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";

    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public OpenAiErrorBody Body => new(new OpenAiError(Message, Type, Param, Code));

    public static OpenAiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, code);

    public static OpenAiException ModelNotFound(string model) =>
        new(404, $"The model '{model}' does not exist. GET /v1/models lists the models under the data root.", "model", "model_not_found");
}

public sealed record OpenAiErrorBody(OpenAiError Error);

public sealed record OpenAiError(string Message, string Type, string? Param, string? Code);
