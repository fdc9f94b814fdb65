namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// The local redis-server's config file: its password (<c>requirepass</c>), readable by its owner only (0600), written
/// atomically before each start. Redis's config syntax takes a double-quoted string with backslash escapes.
/// </summary>
public static class RedisConfigFile
{
    public const string FileName = "redis.conf";

    public static void Write(string path, string password)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);   // created anew below, so that it gets the owner-only mode from the start
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(temporary, new System.Text.UTF8Encoding(false), options))
            writer.Write(Render(password));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The file's text: one <c>requirepass</c> line, the password quoted.</summary>
    public static string Render(string password) =>
        $"requirepass \"{password.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"\n";
}
