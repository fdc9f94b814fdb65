using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.AppHost.Infrastructure;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// Maps the app model to a <see cref="DeploymentDescription"/>. What every resource gets (image, entrypoint, args,
/// env, bindings, volumes, connection strings) is read from the Aspire manifest the manifest publisher writes for
/// the same model, so the two publishers agree by construction; what the manifest cannot carry (replicas, GPUs,
/// scaling, grace periods, tolerations, compute resources, shared volumes) is read from the app model's annotations.
/// Manifest expressions are resolved as in a cluster: a resource's host is its Service name, its port the container
/// port, and every parameter is a key of one Secret, reached through $(VAR) references to secretKeyRef variables.
/// </summary>
public static partial class AppModelToDeployment
{
    public const string ProjectComponent = "project";
    public const string ContainerComponent = "container";
    public const string SecretName = "finetune-parameters";
    public const string CudaTagSuffix = "-cuda";

    /// <summary>APP_UID of Microsoft's .NET images, which eng/docker/Service.Dockerfile switches to.</summary>
    public const long DotnetImageUser = 1654;

    /// <summary>The configuration key the .NET host reads its shutdown timeout (seconds) from.</summary>
    public const string ShutdownTimeoutVariable = "shutdownTimeoutSeconds";

    public static DeploymentDescription Map(DistributedApplicationModel model, JsonDocument manifest, KubernetesPublishOptions options)
    {
        var entries = manifest.RootElement.GetProperty("resources");
        var context = new MappingContext(model, entries, options);

        // Parameters as the manifest lists them: Aspire adds generated ones (redis-password) only as dependencies there.
        var secretKeys = entries.EnumerateObject().Where(e => e.Value.GetProperty("type").GetString() == "parameter.v0")
            .Select(e => new SecretKeySpec(e.Name, ParameterHint(e.Name, e.Value))).ToList();

        var sharedClaims = model.Resources.SelectMany(r => r.Annotations.OfType<SharedDataAnnotation>()).Select(a => a.Data).Distinct()
            .Select(v => SharedClaim(v, options))
            .ToList();

        var workloads = new List<WorkloadSpec>();
        foreach (var resource in model.Resources)
        {
            if (resource.TryGetAnnotationsOfType<ManifestPublishingCallbackAnnotation>(out var callbacks) && callbacks.Any(c => c.Callback is null))
                continue; // excluded from the manifest (run-mode-only resources)
            switch (resource)
            {
                case ProjectResource project:
                    workloads.Add(Project(project, context));
                    break;
                case ContainerResource container:
                    workloads.Add(Container(container, context));
                    break;
                case ExecutableResource executable:
                    throw new InvalidOperationException($"{executable.Name}: an executable resource has no Kubernetes form; model it as a project or a container to deploy it.");
            }
        }

        // Per-resource claims of Deployments (e.g. Ollama's models) are objects of their own, after the shared ones.
        var ownClaims = workloads.SelectMany(w => w.Mounts.Where(m => !m.PerPod && !sharedClaims.Contains(m.Claim)).Select(m => m.Claim));
        return new DeploymentDescription(
            string.IsNullOrWhiteSpace(options.Namespace) ? null : options.Namespace,
            workloads, SecretName, secretKeys, [.. sharedClaims, .. ownClaims.Distinct()]);
    }

    /// <summary>The claim name of a shared volume.</summary>
    public static string SharedClaimName(SharedData volume) => $"finetune-{volume.Name}";

    private static ClaimSpec SharedClaim(SharedData volume, KubernetesPublishOptions options) =>
        new(SharedClaimName(volume), "ReadWriteMany", options.DataVolumeSize, options.StorageClass);

    private static string ParameterHint(string name, JsonElement parameter)
    {
        var input = parameter.TryGetProperty("inputs", out var inputs) && inputs.TryGetProperty("value", out var v) ? v : default;
        var secret = input.ValueKind == JsonValueKind.Object && input.TryGetProperty("secret", out var s) && s.GetBoolean();
        if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty("default", out var d) && d.TryGetProperty("generate", out var g))
        {
            var minLength = g.TryGetProperty("minLength", out var m) ? m.GetInt32() : 22;
            var special = !g.TryGetProperty("special", out var sp) || sp.GetBoolean();
            return $"{name}: any {minLength}+ character {(special ? "" : "letters-and-digits ")}string, e.g. $(openssl rand -hex {(minLength + 1) / 2})";
        }
        return $"{name}: required{(secret ? " (secret)" : "")}";
    }

    private static WorkloadSpec Project(ProjectResource project, MappingContext context)
    {
        var entry = context.Entry(project.Name);
        var env = new EnvBuilder(context);
        env.AddManifestEnv(entry);
        var options = context.Options;
        // The cluster's collector, and one service.instance.id per pod (the trainer's consumer name in its group).
        env.Literal("OTEL_EXPORTER_OTLP_ENDPOINT", options.OtlpEndpoint);
        env.Literal("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        env.Literal("OTEL_SERVICE_NAME", project.Name);
        env.PodField("POD_NAME", "metadata.name");
        env.Composed("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=$(POD_NAME)");
        var grace = project.Annotations.OfType<TerminationGracePeriodAnnotation>().LastOrDefault()?.Period;
        if (grace is { } g)
        {
            // The .NET host stops waiting for services after its shutdown timeout (30 s by default): give it the
            // grace period less a margin, so a checkpoint in progress on SIGTERM completes before SIGKILL.
            var seconds = Math.Max(1, (int)g.TotalSeconds - Math.Min(15, (int)g.TotalSeconds / 10));
            env.Literal(ShutdownTimeoutVariable, seconds.ToString(CultureInfo.InvariantCulture));
        }

        var ports = context.Ports(project.Name).Select(p => new PortSpec(p.Name, p.Port, Expose: true)).ToList();
        var http = ports.FirstOrDefault(p => p.Name == "http") ?? ports.FirstOrDefault();
        var scaling = project.Annotations.OfType<AutoscalingAnnotation>().LastOrDefault() is { } a ? Scaling(project, a, context) : null;
        var gpus = project.Annotations.OfType<GpuAnnotation>().LastOrDefault()?.Count ?? 0;

        return new WorkloadSpec(
            project.Name, ProjectComponent, WorkloadKind.Deployment,
            // A GPU request needs the CUDA build of the image (TorchSharp-cuda-linux): tag suffix -cuda.
            $"{options.ImageRegistry.TrimEnd('/')}/{project.Name}:{options.ImageTag}{(gpus > 0 ? CudaTagSuffix : "")}",
            Command: null, Args: context.Args(entry, env),
            Replicas: scaling is null ? Replicas(project) : Math.Clamp(Replicas(project), Math.Max(1, scaling.MinReplicas), scaling.MaxReplicas),
            scaling,
            gpus,
            Resources(project),
            env.Build(),
            ports,
            http is null ? null : new ProbeSpec(ProbeKind.HttpGet, "/alive", http.Name, InitialDelaySeconds: 10, PeriodSeconds: 10, FailureThreshold: 6),
            http is null ? null : new ProbeSpec(ProbeKind.HttpGet, "/health", http.Name, InitialDelaySeconds: 5, PeriodSeconds: 10, FailureThreshold: 3),
            SharedMounts(project, context),
            grace is null ? null : (int)grace.Value.TotalSeconds,
            Tolerations(project), NodeSelector(project),
            RecreateOnUpdate: false,
            RunAsUser: DotnetImageUser);
    }

    private static WorkloadSpec Container(ContainerResource container, MappingContext context)
    {
        var entry = context.Entry(container.Name);
        var env = new EnvBuilder(context);
        env.AddManifestEnv(entry);
        var args = context.Args(entry, env);
        var ports = context.Ports(container.Name).Select(p => new PortSpec(p.Name, p.Port, Expose: true)).ToList();
        var isRedis = container is RedisResource;
        var volumeClaim = container.Annotations.OfType<VolumeClaimAnnotation>().LastOrDefault();

        var mounts = new List<VolumeMountSpec>();
        if (entry.TryGetProperty("volumes", out var volumes))
        {
            foreach (var v in volumes.EnumerateArray())
            {
                var name = DnsLabel(v.GetProperty("name").GetString()!);
                var claim = new ClaimSpec(name, "ReadWriteOnce", volumeClaim?.Size ?? context.Options.ContainerVolumeSize, volumeClaim?.StorageClass);
                mounts.Add(new VolumeMountSpec(name, claim, v.GetProperty("target").GetString()!, PerPod: isRedis, ReadOnly: v.TryGetProperty("readOnly", out var ro) && ro.GetBoolean()));
            }
        }
        mounts.AddRange(SharedMounts(container, context));

        ProbeSpec? liveness = null, readiness = null;
        var first = ports.FirstOrDefault();
        if (isRedis && first is not null)
        {
            liveness = new ProbeSpec(ProbeKind.TcpSocket, null, first.Name, 10, 10, 6);
            readiness = new ProbeSpec(ProbeKind.Exec, "redis-cli --no-auth-warning -a \"$REDIS_PASSWORD\" ping | grep -q PONG", null, 5, 10, 3);
        }
        else if (first is not null && context.Binding(container.Name, first.Name).Scheme is "http")
        {
            liveness = new ProbeSpec(ProbeKind.HttpGet, "/", first.Name, 10, 10, 6);
            readiness = new ProbeSpec(ProbeKind.HttpGet, "/", first.Name, 5, 10, 3);
        }
        else if (first is not null)
        {
            liveness = new ProbeSpec(ProbeKind.TcpSocket, null, first.Name, 10, 10, 6);
            readiness = new ProbeSpec(ProbeKind.TcpSocket, null, first.Name, 5, 10, 3);
        }

        string? entrypoint = entry.TryGetProperty("entrypoint", out var ep) ? ep.GetString() : null;
        return new WorkloadSpec(
            container.Name, ContainerComponent, isRedis ? WorkloadKind.StatefulSet : WorkloadKind.Deployment,
            entry.GetProperty("image").GetString()!,
            entrypoint is null ? null : [entrypoint], args,
            Replicas: 1, Scaling: null,
            Gpus: container.Annotations.OfType<GpuAnnotation>().LastOrDefault()?.Count ?? 0,
            Resources(container), env.Build(), ports, liveness, readiness, mounts,
            container.Annotations.OfType<TerminationGracePeriodAnnotation>().LastOrDefault() is { } g ? (int)g.Period.TotalSeconds : null,
            Tolerations(container), NodeSelector(container),
            // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once.
            RecreateOnUpdate: !isRedis && mounts.Any(m => m.Claim.AccessMode == "ReadWriteOnce"));
    }

    private static int Replicas(ProjectResource project) => project.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;

    private static ScalingSpec Scaling(IResource resource, AutoscalingAnnotation a, MappingContext context)
    {
        var redis = context.Model.Resources.OfType<RedisResource>().FirstOrDefault(r => context.References(resource, r))
            ?? throw new InvalidOperationException($"{resource.Name}: WithAutoscaling scales on a Redis stream, but the resource has no WithReference to a Redis resource.");
        var port = context.Ports(redis.Name).First(p => p.Name == redis.PrimaryEndpoint.EndpointName).Port;
        var password = redis.PasswordParameter ?? throw new InvalidOperationException($"{redis.Name}: KEDA's redis-streams trigger needs the Redis password parameter.");
        return new ScalingSpec(a.MinReplicas, a.MaxReplicas, a.Stream, a.ConsumerGroup, a.LagPerReplica,
            $"{redis.Name}:{port.ToString(CultureInfo.InvariantCulture)}", password.Name);
    }

    private static List<VolumeMountSpec> SharedMounts(IResource resource, MappingContext context) =>
        resource.Annotations.OfType<SharedDataAnnotation>()
            .Select(a => new VolumeMountSpec(DnsLabel(a.Data.Name), SharedClaim(a.Data, context.Options), a.Data.MountPath, PerPod: false, ReadOnly: false))
            .ToList();

    private static ComputeResources Resources(IResource resource) =>
        resource.Annotations.OfType<ComputeResourcesAnnotation>().LastOrDefault() is { } r
            ? new ComputeResources(r.CpuRequest, r.MemoryRequest, r.CpuLimit, r.MemoryLimit)
            : ComputeResources.None;

    private static List<TolerationSpec> Tolerations(IResource resource) =>
        resource.Annotations.OfType<TolerationAnnotation>().Select(t => new TolerationSpec(t.Key, t.Value, t.Effect)).ToList();

    private static Dictionary<string, string> NodeSelector(IResource resource)
    {
        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in resource.Annotations.OfType<NodeSelectorAnnotation>())
            selector[n.Key] = n.Value;
        return selector;
    }

    /// <summary>Lower-case letters, digits and hyphens, at most 63 characters: a valid object or volume name.</summary>
    internal static string DnsLabel(string name)
    {
        var label = NotDns().Replace(name.ToLowerInvariant(), "-").Trim('-');
        return label.Length <= 63 ? label : label[..63].TrimEnd('-');
    }

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotDns();

    /// <summary>A manifest binding in the cluster: name, scheme, and the port the container listens on.</summary>
    internal sealed record Binding(string Name, string Scheme, int Port);

    /// <summary>The manifest of the model plus the cluster-side answers to its expressions.</summary>
    internal sealed partial class MappingContext(DistributedApplicationModel model, JsonElement entries, KubernetesPublishOptions options)
    {
        public DistributedApplicationModel Model { get; } = model;

        public KubernetesPublishOptions Options { get; } = options;

        public JsonElement Entry(string name) => entries.TryGetProperty(name, out var e)
            ? e
            : throw new InvalidOperationException($"{name}: the manifest has no entry for this resource.");

        /// <summary>The manifest entry of <paramref name="resource"/> refers to <paramref name="target"/> (a connection string or binding expression).</summary>
        public bool References(IResource resource, IResource target) =>
            entries.TryGetProperty(resource.Name, out var e) && e.GetRawText().Contains("{" + target.Name + ".", StringComparison.Ordinal);

        public bool IsParameter(string name) => entries.TryGetProperty(name, out var e) && e.GetProperty("type").GetString() == "parameter.v0";

        public List<Binding> Ports(string resource)
        {
            var result = new List<Binding>();
            if (!Entry(resource).TryGetProperty("bindings", out var bindings))
                return result;
            var isProject = Model.Resources.Any(r => r is ProjectResource && r.Name == resource);
            var next = Options.ProjectPort;
            foreach (var b in bindings.EnumerateObject())
            {
                var scheme = b.Value.GetProperty("scheme").GetString()!;
                int port;
                if (b.Value.TryGetProperty("targetPort", out var t))
                    port = t.GetInt32();
                else if (isProject)
                    port = next++;
                else
                    throw new InvalidOperationException($"{resource}: binding '{b.Name}' has no targetPort, so its container port is unknown.");
                result.Add(new Binding(b.Name, scheme, port));
            }
            return result;
        }

        public Binding Binding(string resource, string binding) =>
            Ports(resource).FirstOrDefault(b => b.Name == binding)
            ?? throw new InvalidOperationException($"{resource}: no binding named '{binding}'.");

        public IReadOnlyList<string> Args(JsonElement entry, EnvBuilder env) =>
            entry.TryGetProperty("args", out var args)
                ? args.EnumerateArray().Select(a => env.Resolve(a.GetString()!)).ToList()
                : [];

        /// <summary>Replaces every {…} expression; parameters become $(VAR) of a secretKeyRef variable that <paramref name="secretVariable"/> declares.</summary>
        public string Resolve(string value, Func<string, string> secretVariable, int depth = 0)
        {
            if (depth > 8)
                throw new InvalidOperationException($"Manifest expression '{value}' refers to itself.");
            return Expression().Replace(value, m =>
            {
                var resource = m.Groups["resource"].Value;
                var path = m.Groups["path"].Value;
                if (IsParameter(resource) && path is "value" or "inputs.value")
                    return $"$({secretVariable(resource)})";
                if (path == "value" && Entry(resource).TryGetProperty("value", out var inner) && inner.ValueKind == JsonValueKind.String)
                {
                    // value.v0 and annotated.string (Aspire's "uri" filter of the Redis password): the value itself. Generated
                    // passwords are letters and digits (special: false), so URI-encoding leaves them as they are.
                    return Resolve(inner.GetString()!, secretVariable, depth + 1);
                }
                if (path == "connectionString")
                {
                    var cs = Entry(resource).TryGetProperty("connectionString", out var c) ? c.GetString()! : throw new InvalidOperationException($"{resource}: no connection string to refer to.");
                    return Resolve(cs, secretVariable, depth + 1);
                }
                var parts = path.Split('.');
                if (parts.Length == 3 && parts[0] == "bindings")
                {
                    var b = Binding(resource, parts[1]);
                    var port = b.Port.ToString(CultureInfo.InvariantCulture);
                    return parts[2] switch
                    {
                        "host" => resource,
                        "port" or "targetPort" => port,
                        "scheme" => b.Scheme,
                        "url" => $"{b.Scheme}://{resource}:{port}",
                        _ => throw new InvalidOperationException($"Manifest expression '{m.Value}': unknown binding property '{parts[2]}'."),
                    };
                }
                throw new InvalidOperationException($"Manifest expression '{m.Value}' has no Kubernetes meaning.");
            });
        }

        [GeneratedRegex(@"\{(?<resource>[A-Za-z][A-Za-z0-9-]*)\.(?<path>[A-Za-z0-9.]+)\}")]
        private static partial Regex Expression();
    }

    /// <summary>
    /// Builds one container's env in a valid order: secretKeyRef variables first (a $(VAR) reference only expands
    /// when VAR comes earlier), then the manifest's and the publisher's entries.
    /// </summary>
    internal sealed class EnvBuilder(MappingContext context)
    {
        private readonly List<EnvEntry> _secrets = [];
        private readonly List<EnvEntry> _entries = [];

        public void AddManifestEnv(JsonElement entry)
        {
            if (!entry.TryGetProperty("env", out var env))
                return;
            foreach (var variable in env.EnumerateObject())
            {
                var raw = variable.Value.GetString() ?? "";
                // A variable that is exactly one parameter is that Secret key itself.
                var whole = Regex.Match(raw, @"^\{(?<p>[A-Za-z][A-Za-z0-9-]*)\.(value|inputs\.value)\}$");
                if (whole.Success && context.IsParameter(whole.Groups["p"].Value))
                {
                    AddSecret(variable.Name, whole.Groups["p"].Value);
                    continue;
                }
                var value = Resolve(raw);
                _entries.Add(value.Contains("$(", StringComparison.Ordinal) && raw.Contains('{', StringComparison.Ordinal)
                    ? EnvEntry.Composed(variable.Name, value)
                    : EnvEntry.Literal(variable.Name, value));
            }
        }

        public string Resolve(string raw) => context.Resolve(raw, SecretVariable);

        public void Literal(string name, string value) => Replace(EnvEntry.Literal(name, value));

        public void Composed(string name, string template) => Replace(EnvEntry.Composed(name, template));

        public void PodField(string name, string path) => Replace(EnvEntry.FromPodField(name, path));

        public IReadOnlyList<EnvEntry> Build() => [.. _secrets, .. _entries];

        private void Replace(EnvEntry entry)
        {
            _entries.RemoveAll(e => e.Name == entry.Name);
            _entries.Add(entry);
        }

        private void AddSecret(string variable, string parameter)
        {
            if (!_secrets.Any(s => s.Name == variable))
                _secrets.Add(EnvEntry.FromSecret(variable, parameter));
        }

        /// <summary>The variable holding <paramref name="parameter"/>: one the manifest already maps to it, else FT_SECRET_&lt;NAME&gt;.</summary>
        private string SecretVariable(string parameter)
        {
            var existing = _secrets.FirstOrDefault(s => s.Value == parameter);
            if (existing is not null)
                return existing.Name;
            var name = "FT_SECRET_" + parameter.ToUpperInvariant().Replace('-', '_');
            AddSecret(name, parameter);
            return name;
        }
    }
}
