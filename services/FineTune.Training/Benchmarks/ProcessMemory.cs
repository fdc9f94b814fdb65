namespace FineTune.Training.Benchmarks;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM = peak). libtorch's CPU allocator
/// exposes no statistics through TorchSharp, so the benchmarks measure what the kernel sees: the peak is reset through
/// /proc/self/clear_refs ("5") before the measured part, and the peak above the RSS at that point is reported.
/// </summary>
public static class ProcessMemory
{
    private const string Status = "/proc/self/status";

    /// <summary>True where /proc/self/status exists (Linux).</summary>
    public static bool Available => File.Exists(Status);

    /// <summary>Resident set size now, in bytes (0 where unavailable).</summary>
    public static long ResidentBytes() => Read("VmRSS:");

    /// <summary>Peak resident set size since the process started or since <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    /// <summary>Sets the peak to the current RSS. Returns false where the kernel refuses (then the peak is since start).</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Read(string field)
    {
        if (!Available) return 0;
        foreach (var line in File.ReadLines(Status))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var kb = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
