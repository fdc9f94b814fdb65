using System.CommandLine;

namespace FineTune.Cli;

/// <summary>Runs the root command; an expected failure (bad input, missing file) prints one line to stderr and exits 1.</summary>
public static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("ft: cancelled");
            return 130;
        }
        catch (Exception e) when (e is CliException or FineTune.Export.Verification.LlamaCppVerificationException or IOException or InvalidDataException or FormatException
                                      or NotSupportedException or ArgumentException or UnauthorizedAccessException
                                      or System.Text.Json.JsonException or KeyNotFoundException)
        {
            await Console.Error.WriteLineAsync($"ft: error: {e.Message}");
            return 1;
        }
    }
}

/// <summary>A user-facing failure: its message is printed as is, without a stack trace.</summary>
public sealed class CliException(string message) : Exception(message);
