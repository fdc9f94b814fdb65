namespace FineTune.Formats.Safetensors;

/// <summary>A safetensors file or checkpoint folder is malformed. The message names the file and the problem.</summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The offending file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
