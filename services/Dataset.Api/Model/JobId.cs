using System.Security.Cryptography;

namespace Dataset.Api.Model;

/// <summary>Job ids: <c>job-</c> + 12 lowercase hex digits (random). Only validated ids reach Redis keys and file paths.</summary>
public static class JobId
{
    public static string New() => "job-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>Letters, digits, '-' and '_', 1–64 characters (jobs created by other tools, e.g. the demo, are accepted too).</summary>
    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string Require(string id) =>
        IsValid(id) ? id : throw new ArgumentException($"'{id}' is not a job id (letters, digits, '-', '_').", nameof(id));
}
