// Our own AppHost engine, following .NET Aspire's conventions. A container image (container.v0 in the manifest). Locally it runs
// with "docker run" when a Docker engine answers, or through its RunModeLaunchAnnotation when it has one.

namespace FineTune.AppHost.Hosting;

public class ContainerResource(string name, string image, string tag) : Resource(name)
{
    /// <summary>Registry and repository, e.g. docker.io/library/redis.</summary>
    public string Image { get; } = image;

    public string Tag { get; } = tag;

    public string? Entrypoint { get; set; }

    public string ImageReference => $"{Image}:{Tag}";
}
