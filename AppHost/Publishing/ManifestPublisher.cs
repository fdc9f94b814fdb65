// Our own AppHost engine, following .NET Aspire's manifest format (aspire-8.0 schema; reference/aspire.md §1):
// project.v0, container.v0, executable.v0, parameter.v0, value.v0; bindings; env values as "{res.…}" expressions;
// secrets only as parameter references, never as values. Written atomically (temp file + rename).
// Replicas have no manifest field (microsoft/aspire#2629); shared volumes have no type either, so each user gets the
// mount path in its env (FineTune__DataRoot) and the Kubernetes publisher turns the volume into a claim.

using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Publishing;

public sealed class ManifestPublisher : IDistributedApplicationPublisher
{
    public const string Name = "manifest";

    public async Task PublishAsync(DistributedApplicationModel model, string outputPath, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(outputPath)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(outputPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, Write(model, directory), cancellationToken);
            File.Move(temp, outputPath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The manifest as UTF-8 JSON (2-space indent, trailing newline). <paramref name="manifestDirectory"/> anchors relative paths.</summary>
    public static byte[] Write(DistributedApplicationModel model, string manifestDirectory)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("resources");
            foreach (var resource in model.Resources)
                WriteResource(json, resource, model, manifestDirectory);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static void WriteResource(Utf8JsonWriter json, IResource resource, DistributedApplicationModel model, string manifestDirectory)
    {
        switch (resource)
        {
            case ParameterResource parameter:
                json.WriteStartObject(parameter.Name);
                WriteParameter(json, parameter);
                json.WriteEndObject();
                break;
            case ProjectResource project:
                json.WriteStartObject(project.Name);
                json.WriteString("type", "project.v0");
                json.WriteString("path", RelativePath(manifestDirectory, project.ProjectPath));
                WriteArgs(json, project);
                WriteEnv(json, ProjectEnv(project));
                WriteBindings(json, project);
                json.WriteEndObject();
                break;
            case ExecutableResource executable:
                json.WriteStartObject(executable.Name);
                json.WriteString("type", "executable.v0");
                json.WriteString("workingDirectory", RelativePath(manifestDirectory, executable.WorkingDirectory));
                json.WriteString("command", executable.Command);
                WriteArgs(json, executable);
                WriteEnv(json, CommonEnv(executable));
                WriteBindings(json, executable);
                json.WriteEndObject();
                break;
            case ContainerResource container:
                json.WriteStartObject(container.Name);
                json.WriteString("type", "container.v0");
                if (container is IResourceWithConnectionString withConnection)
                    json.WriteString("connectionString", withConnection.ConnectionStringExpression.ValueExpression);
                json.WriteString("image", container.ImageReference);
                if (container.Entrypoint is not null)
                    json.WriteString("entrypoint", container.Entrypoint);
                WriteArgs(json, container);
                WriteVolumes(json, container);
                WriteEnv(json, CommonEnv(container));
                WriteBindings(json, container);
                json.WriteEndObject();
                break;
            default:
                break; // shared volumes and unknown kinds have no manifest form
        }
    }

    private static void WriteParameter(Utf8JsonWriter json, ParameterResource parameter)
    {
        json.WriteString("type", "parameter.v0");
        json.WriteString("value", $"{{{parameter.Name}.inputs.value}}");
        json.WriteStartObject("inputs");
        json.WriteStartObject("value");
        json.WriteString("type", "string");
        if (parameter.Secret)
            json.WriteBoolean("secret", true);
        if (parameter.Generate is { } generate)
        {
            json.WriteStartObject("default");
            json.WriteStartObject("generate");
            json.WriteNumber("minLength", generate.MinLength);
            if (!generate.Special)
                json.WriteBoolean("special", false);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Aspire's publish-mode env for a project: OTLP flags, forwarded headers, HTTP_PORTS, then references and own env.</summary>
    private static List<KeyValuePair<string, string>> ProjectEnv(ProjectResource project)
    {
        var env = new List<KeyValuePair<string, string>>
        {
            new("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true"),
            new("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true"),
            new("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "in_memory"),
            new("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true"),
        };
        var http = project.Annotations.OfKind<EndpointAnnotation>().Where(e => e.Scheme == "http").Select(e => $"{{{project.Name}.bindings.{e.Name}.targetPort}}").ToList();
        if (http.Count > 0)
            env.Add(new("HTTP_PORTS", string.Join(';', http)));
        env.AddRange(CommonEnv(project));
        return env;
    }

    private static List<KeyValuePair<string, string>> CommonEnv(IResource resource)
    {
        var env = new List<KeyValuePair<string, string>>();
        foreach (var source in resource.Annotations.OfKind<ReferenceAnnotation>().Select(r => r.Source).Distinct())
        {
            if (source is IResourceWithConnectionString)
            {
                env.Add(new($"ConnectionStrings__{source.Name}", $"{{{source.Name}.connectionString}}"));
                continue;
            }
            foreach (var endpoint in source.Annotations.OfKind<EndpointAnnotation>())
                env.Add(new($"services__{source.Name}__{endpoint.Name}__0", $"{{{source.Name}.bindings.{endpoint.Name}.url}}"));
        }
        foreach (var shared in resource.Annotations.OfKind<SharedVolumeAnnotation>())
            env.Add(new(shared.EnvironmentVariable, shared.Volume.MountPath));
        foreach (var annotation in resource.Annotations.OfKind<EnvironmentAnnotation>())
            env.Add(new(annotation.Name, annotation.Value.ValueExpression));
        return env;
    }

    private static void WriteEnv(Utf8JsonWriter json, List<KeyValuePair<string, string>> env)
    {
        if (env.Count == 0)
            return;
        json.WriteStartObject("env");
        foreach (var (name, value) in env)
            json.WriteString(name, value);
        json.WriteEndObject();
    }

    private static void WriteArgs(Utf8JsonWriter json, IResource resource)
    {
        var args = ArgsAnnotation.All(resource);
        if (args.Count == 0)
            return;
        json.WriteStartArray("args");
        foreach (var arg in args)
            json.WriteStringValue(arg.ValueExpression);
        json.WriteEndArray();
    }

    private static void WriteVolumes(Utf8JsonWriter json, ContainerResource container)
    {
        var volumes = container.Annotations.OfKind<VolumeAnnotation>().ToList();
        if (volumes.Count == 0)
            return;
        json.WriteStartArray("volumes");
        foreach (var volume in volumes)
        {
            json.WriteStartObject();
            json.WriteString("name", volume.Name);
            json.WriteString("target", volume.Target);
            json.WriteBoolean("readOnly", volume.ReadOnly);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteBindings(Utf8JsonWriter json, IResource resource)
    {
        var endpoints = resource.Annotations.OfKind<EndpointAnnotation>().ToList();
        if (endpoints.Count == 0)
            return;
        json.WriteStartObject("bindings");
        foreach (var endpoint in endpoints)
        {
            json.WriteStartObject(endpoint.Name);
            json.WriteString("scheme", endpoint.Scheme);
            json.WriteString("protocol", endpoint.Protocol);
            json.WriteString("transport", endpoint.Transport);
            if (endpoint.TargetPort is int target)
                json.WriteNumber("targetPort", target);
            if (endpoint.Port is int port && port != endpoint.TargetPort)
                json.WriteNumber("port", port);
            if (endpoint.IsExternal)
                json.WriteBoolean("external", true);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static string RelativePath(string from, string to) => Path.GetRelativePath(from, to).Replace('\\', '/');
}
