namespace FineTune.AppHost.Infrastructure;

/// <summary>Where <see cref="ConsoleLogArchive"/> writes this run's logs.</summary>
internal sealed record ConsoleLogFolder(string Root, string Path)
{
    public static ConsoleLogFolder ForRun(string stateDirectory, DateTimeOffset started)
    {
        var root = System.IO.Path.Combine(stateDirectory, "logs");
        return new(root, System.IO.Path.Combine(root, started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>A resource id as a file name (ids are DNS-like; anything else becomes '_').</summary>
    public static string FileName(string resourceId) =>
        new string([.. resourceId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]) + ".log";

    /// <summary>Points &lt;root&gt;/latest at this run's folder (a symbolic link; replaced each run).</summary>
    public void PointLatestHere()
    {
        var latest = System.IO.Path.Combine(Root, "latest");
        try
        {
            if (File.Exists(latest) || Directory.Exists(latest)) File.Delete(latest);
            File.CreateSymbolicLink(latest, Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException) { }
    }
}
