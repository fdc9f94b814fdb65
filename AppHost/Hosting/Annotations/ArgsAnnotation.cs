// Our own AppHost engine, following .NET Aspire's conventions. Command-line arguments given to a resource
// (WithArgs), in order. A factory lets a resource compute its arguments from other annotations when they are read.

namespace FineTune.AppHost.Hosting;

public sealed record ArgsAnnotation(Func<IReadOnlyList<ReferenceExpression>> Factory) : IResourceAnnotation
{
    public ArgsAnnotation(IReadOnlyList<ReferenceExpression> args) : this(() => args)
    {
    }

    public IReadOnlyList<ReferenceExpression> Args => Factory();

    /// <summary>Every argument of a resource, in the order its WithArgs calls were made.</summary>
    public static IReadOnlyList<ReferenceExpression> All(IResource resource) =>
        [.. resource.Annotations.OfKind<ArgsAnnotation>().SelectMany(a => a.Args)];
}
