using System.Runtime.InteropServices;

namespace FineTune.Training.Benchmarks;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM = peak). libtorch's CPU allocator
/// exposes no statistics through TorchSharp, so the benchmarks measure what the kernel sees.
/// <para>
/// RSS alone would hide what a training step needs: glibc keeps freed blocks for reuse, and the first steps page in
/// libtorch's code. <see cref="StartPeakMeasurement"/> therefore makes glibc map every block of 64 KiB or more on its own
/// (so a freed tensor is returned to the kernel at once), trims the heap, and resets the peak (clear_refs "5"). The
/// peak after that, minus the RSS at that moment, is the step's transient memory: activations kept for backward,
/// gradients, workspaces.
/// </para>
/// </summary>
public static class ProcessMemory
{
    private const string Status = "/proc/self/status";
    private const int MmapThreshold = -3; // glibc M_MMAP_THRESHOLD

    /// <summary>Resident set size now, in bytes (0 where /proc is unavailable).</summary>
    public static long ResidentBytes() => Read("VmRSS:");

    /// <summary>Peak resident set size since the process started or since the last reset, in bytes.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    /// <summary>
    /// Prepares a peak measurement as described above. Returns the RSS to subtract from <see cref="PeakResidentBytes"/>,
    /// or null where it cannot be done honestly (not Linux with glibc, or the kernel refuses to reset the peak).
    /// </summary>
    public static long? StartPeakMeasurement()
    {
        if (!File.Exists(Status)) return null;
        try
        {
            if (mallopt(MmapThreshold, 64 * 1024) != 1) return null;
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
