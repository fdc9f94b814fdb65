using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace FineTune.AppHost.Dashboard.Otlp;

/// <summary>The OTLP API key check (header x-otlp-api-key, as Aspire's dashboard), shared by the gRPC and HTTP receivers.</summary>
public sealed class OtlpApiKey(DashboardOptions options)
{
    public const string HeaderName = "x-otlp-api-key";

    public bool IsAuthorized(string? presented)
    {
        if (options.OtlpAuthMode == OtlpAuthMode.Unsecured) return true;
        if (string.IsNullOrEmpty(presented) || string.IsNullOrEmpty(options.OtlpApiKey)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(options.OtlpApiKey));
    }
}

/// <summary>Refuses OTLP/gRPC calls without the right API key with status Unauthenticated.</summary>
public sealed class OtlpApiKeyInterceptor(OtlpApiKey apiKey) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!apiKey.IsAuthorized(context.RequestHeaders.GetValue(OtlpApiKey.HeaderName)))
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"Missing or wrong {OtlpApiKey.HeaderName} header."));
        return continuation(request, context);
    }
}
