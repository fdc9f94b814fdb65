namespace FineTune.Tests;

/// <summary>Reads a file that another process may still be appending to (a console log), without blocking it.</summary>
public static class GrowingFile
{
    public static string ReadAll(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd();
    }
}
