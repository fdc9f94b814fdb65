// Our own AppHost engine, following .NET Aspire's conventions (no Aspire packages are on this feed).
// A resource is a name plus an open list of annotations: every behaviour (endpoints, environment, replicas,
// waits, volumes, and whatever a publisher adds, such as Kubernetes GPU or autoscaling hints) is an annotation.

namespace FineTune.AppHost.Hosting;

/// <summary>Anything the app model holds: a project, an executable, a container, a parameter, a shared volume.</summary>
public interface IResource
{
    string Name { get; }

    /// <summary>Open-ended metadata. Publishers read the annotations they understand and ignore the rest.</summary>
    ResourceAnnotationCollection Annotations { get; }
}

/// <summary>Marker for annotation types, so that every extension point is searchable.</summary>
public interface IResourceAnnotation;

public sealed class ResourceAnnotationCollection : List<IResourceAnnotation>
{
    public IEnumerable<T> OfKind<T>() where T : IResourceAnnotation => this.OfType<T>();

    public T? Last<T>() where T : class, IResourceAnnotation => this.OfType<T>().LastOrDefault();
}

public abstract class Resource(string name) : IResource
{
    public string Name { get; } = ResourceNames.Validate(name);

    public ResourceAnnotationCollection Annotations { get; } = [];

    public override string ToString() => Name;
}

/// <summary>Resource names follow Aspire's rule: letters, digits and hyphens, starting with a letter, at most 64 characters.</summary>
public static class ResourceNames
{
    public static string Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !char.IsAsciiLetter(name[0])
            || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-') || name.EndsWith('-') || name.Contains("--"))
            throw new ArgumentException($"Resource name '{name}' is invalid: use ASCII letters, digits and single hyphens, start with a letter, at most 64 characters.", nameof(name));
        return name;
    }
}
