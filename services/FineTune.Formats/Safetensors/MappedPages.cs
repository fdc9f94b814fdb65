// Written by hand: .NET has no API to drop pages of a memory-mapped view from the resident set (madvise), so this
// calls libc directly on Linux; elsewhere it does nothing.
using System.Runtime.InteropServices;

namespace FineTune.Formats.Safetensors;

/// <summary>
/// Lets go of the pages of a read-only file mapping once their bytes were copied out: madvise(MADV_DONTNEED) removes them
/// from the process's resident set (the kernel's page cache keeps them; a later read faults them back in). Without it,
/// every page a loader touches stays counted in the process's RSS, so reading a 13 GB checkpoint tensor by tensor would
/// show 13 GB resident however little the loader keeps.
/// </summary>
internal static unsafe partial class MappedPages
{
    private const int MadvDontNeed = 4;

    private static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>Releases the pages that [<paramref name="start"/>, start + <paramref name="length"/>) touches.</summary>
    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        var first = (long)start / PageSize * PageSize;
        var end = (long)start + length;
        _ = Madvise((nint)first, (nuint)(end - first), MadvDontNeed);   // advisory: a failure only leaves pages resident
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
