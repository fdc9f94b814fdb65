namespace FineTune.Export.Tests;

/// <summary>Test classes that measure process-wide allocations: xUnit runs this collection with no other test in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationSensitive
{
    public const string Name = "allocation-sensitive";
}
