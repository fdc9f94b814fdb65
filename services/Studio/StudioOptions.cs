namespace Studio;

/// <summary>
/// Configuration section <c>Studio</c>. The front door's address comes from Aspire service discovery
/// (<c>services:dataset:http:0</c>, used through <c>http://dataset</c>) or <c>FineTune:FrontDoor</c>; the inference
/// service's from <c>services:inference:http:0</c> or <c>FineTune:Inference</c>.
/// </summary>
public sealed class StudioOptions
{
    /// <summary>The login token; when empty one is generated at start and logged once as <c>/login?t=…</c>.</summary>
    public string? Token { get; set; }

    /// <summary>Where the Studio listens when no URL is configured (ASPNETCORE_URLS, --urls): loopback only.</summary>
    public string DefaultUrl { get; set; } = "http://127.0.0.1:5090";
}
