using System.Security.Cryptography;
using System.Text;

namespace Studio.Auth;

/// <summary>The Studio's login token: <c>Studio:Token</c>, or a random one made at start (logged once with the login URL).</summary>
public sealed class StudioToken
{
    private readonly byte[] _bytes;

    public StudioToken(string? configured)
    {
        Generated = string.IsNullOrWhiteSpace(configured);
        Value = Generated ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) : configured!.Trim();
        _bytes = Encoding.UTF8.GetBytes(Value);
    }

    public string Value { get; }

    /// <summary>True when no token was configured and this one was generated.</summary>
    public bool Generated { get; }

    /// <summary>Constant-time comparison, so the answer time does not leak how much of a guess was right.</summary>
    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _bytes);
}
