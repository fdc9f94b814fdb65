// Written by hand: libgomp, the OpenMP runtime under libtorch, reads OMP_WAIT_POLICY from the C environment once, when
// it is loaded, and .NET's Environment.SetEnvironmentVariable does not reach the C environment on Unix; so this calls
// libc's setenv/getenv directly.
using System.Runtime.InteropServices;

namespace FineTune.Cli;

/// <summary>
/// The OpenMP wait policy of a training command. `ft train` and `ft bench-train` own the machine while they run, and a
/// LoRA step is many short parallel regions: with libgomp's default, worker threads spin only briefly, then sleep between
/// them and are woken again for the next. On this project's 2-core machine ACTIVE gave +7 % tokens/s over 14 interleaved
/// pairs (10 in its favour; the machine's own noise was of the same size: docs/benchmarks/training.md, "Toward 60 % MFU"). ACTIVE keeps them spinning instead. A policy the user set is
/// kept (OMP_WAIT_POLICY=PASSIVE when several trainings share the cores, where spinning would steal them). The services
/// are left alone: two trainer replicas on one machine must not spin against each other.
/// </summary>
internal static partial class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";

    /// <summary>Sets ACTIVE unless the variable is set; call before the first TorchSharp call loads libtorch.</summary>
    public static void PreferActive()
    {
        if (OperatingSystem.IsWindows() || Current is not null) return;
        _ = SetEnv(Variable, "ACTIVE", overwrite: 0);
    }

    /// <summary>The policy the OpenMP runtime sees (null when unset).</summary>
    public static string? Current =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(Variable) : Marshal.PtrToStringUTF8(GetEnv(Variable));

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    // The result points into libc's environment: read, never freed (so no string return marshalling).
    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);
}
