namespace FineTune.Tests;

/// <summary>
/// Test classes that measure process-wide allocations (GC.GetTotalAllocatedBytes): xUnit runs this collection with no other
/// test in parallel, since neighbours' allocations would be counted too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationSensitive
{
    public const string Name = "allocation-sensitive";
}
