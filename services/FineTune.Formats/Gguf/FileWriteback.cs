// Written by hand: .NET has no API to start the write-back of a file's dirty pages without waiting for it
// (sync_file_range), so this calls libc directly on Linux; elsewhere it does nothing.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FineTune.Formats.Gguf;

/// <summary>
/// Starts writing a file's dirty pages to disk in the background: sync_file_range(SYNC_FILE_RANGE_WRITE) queues them and
/// returns without waiting. A writer that calls it after each large piece keeps the disk busy while it computes the
/// next one, so the fsync at the end waits for the last piece only, not for the whole file (a GGUF file of several GB
/// would otherwise sit in the page cache until that fsync).
/// </summary>
internal static partial class FileWriteback
{
    private const uint SyncFileRangeWrite = 2;

    /// <summary>Queues the write-back of every page of <paramref name="file"/> written so far (advisory: errors surface at fsync).</summary>
    public static void Start(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux()) return;
        _ = SyncFileRange((int)file.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
