using System.Runtime.InteropServices;

namespace FineTune.Cli.Benchmarks;

/// <summary>
/// CPU time consumed by this process (all threads), in seconds, from clock_gettime(CLOCK_PROCESS_CPUTIME_ID) (nanosecond
/// resolution; Process.TotalProcessorTime has only clock-tick resolution). On a machine shared with other work, CPU
/// seconds measure the work done far more steadily than wall time; with one torch thread they are that thread's work.
/// </summary>
public static class ProcessCpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    /// <summary>Seconds of CPU time so far, or NaN where the clock is unavailable (not Linux).</summary>
    public static double Seconds()
    {
        try
        {
            return clock_gettime(ClockProcessCpuTimeId, out var ts) == 0 ? ts.Seconds + ts.Nanoseconds * 1e-9 : double.NaN;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return double.NaN;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

#pragma warning disable SYSLIB1054 // DllImport: blittable signature, and the project does not allow unsafe code
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int clock_gettime(int clockId, out TimeSpec time);
#pragma warning restore SYSLIB1054
}
