using System.Runtime.InteropServices;

namespace FineTune.Cli.Benchmarks;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM = peak). libtorch's CPU allocator
/// exposes no statistics through TorchSharp, so the benchmarks measure what the kernel sees.
/// <para>
/// RSS alone would hide what a training step needs: glibc keeps freed blocks in its heap for reuse, and the first step
/// pages in libtorch's code. So a measurement (1) makes glibc map every block of 64 KiB or more on its own
/// (<see cref="SeparateLargeAllocations"/>), so a freed tensor goes back to the kernel at once and the heap never fills
/// with them, before any training; (2) after a warm-up step, trims the heap and resets the peak (<see cref="ResetPeak"/>,
/// /proc/self/clear_refs "5"); (3) reads the peak after the measured step. Peak minus the RSS at (2) is the step's
/// transient memory: activations kept for backward, gradients, workspaces. <see cref="RestoreLargeAllocations"/> then
/// sets the threshold to 32 MiB, glibc's ceiling for its own dynamic threshold, where a training process settles, so
/// that timed steps run as usual.
/// </para>
/// </summary>
public static class ProcessMemory
{
    private const string Status = "/proc/self/status";
    private const int MmapThreshold = -3; // glibc M_MMAP_THRESHOLD
    private const int TrimThreshold = -1; // glibc M_TRIM_THRESHOLD

    /// <summary>Resident set size now, in bytes (0 where /proc is unavailable).</summary>
    public static long ResidentBytes() => Read("VmRSS:");

    /// <summary>Peak resident set size since the process started or since the last reset, in bytes.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    /// <summary>Step (1) above. False where it cannot be done (not Linux with glibc): then do not measure.</summary>
    public static bool SeparateLargeAllocations() => File.Exists(Status) && SetMmapThreshold(64 * 1024);

    /// <summary>Step (2) above: trims the heap, resets the peak and returns the RSS now, or null where the kernel refuses.</summary>
    public static long? ResetPeak()
    {
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return ResidentBytes();
    }

    /// <summary>
    /// Back to where glibc's dynamic thresholds settle in a training process for the rest of it: mmap threshold 32 MiB
    /// (its ceiling) and trim threshold twice that (as glibc sets it), so freed tensors are reused, not returned.
    /// </summary>
    public static void RestoreLargeAllocations()
    {
        SetMmapThreshold(32 * 1024 * 1024);
        try
        {
            mallopt(TrimThreshold, 64 * 1024 * 1024);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    private static bool SetMmapThreshold(int bytes)
    {
        try
        {
            return mallopt(MmapThreshold, bytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static long Read(string field)
    {
        if (!File.Exists(Status)) return 0;
        foreach (var line in File.ReadLines(Status))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var kb = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    // DllImport rather than LibraryImport: these signatures are blittable, and the project does not allow unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
#pragma warning restore SYSLIB1054
}
