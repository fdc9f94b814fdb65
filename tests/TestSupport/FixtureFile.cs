namespace FineTune.Tests;

/// <summary>
/// Files a test project copies into the Fixtures folder of its output: its own Fixtures/ and, in the projects that link
/// them (Data, Dataset.Api, Preprocess.Worker tests), the seed datasets of tests/TestSupport/Datasets.
/// </summary>
public static class FixtureFile
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}
