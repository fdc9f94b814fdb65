namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// The example overlay overlays/cpu: the same deployment on a cluster without GPUs (kind, minikube, a CPU node pool).
/// Every GPU request of the base is removed with a JSON 6902 patch (a strategic merge cannot delete a map key
/// portably) and the image goes back from the CUDA build to the CPU one.
/// </summary>
public static class CpuOverlay
{
    public const string Folder = "overlays/cpu";

    public static IReadOnlyList<ManifestFile> Create(DeploymentDescription description, string basePath, string imageTag)
    {
        var files = new List<ManifestFile>();
        var patches = new List<KustomizeJsonPatch>();
        var images = new List<KustomizeImage>();
        foreach (var w in description.Workloads.Where(w => w.Gpus > 0))
        {
            var file = $"{w.Name}-no-gpu.patch.yaml";
            var resource = "/spec/template/spec/containers/0/resources";
            var gpu = KubernetesObjectFactory.GpuResource.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
            files.Add(new($"{Folder}/{file}", new List<JsonPatchOperation>
            {
                new() { Op = "remove", Path = $"{resource}/limits/{gpu}" },
                new() { Op = "remove", Path = $"{resource}/requests/{gpu}" },
            }));
            patches.Add(new KustomizeJsonPatch
            {
                Target = new KustomizePatchTarget { Group = "apps", Version = "v1", Kind = w.Kind.ToString(), Name = w.Name },
                Path = file,
            });
            var name = ImageName(w.Image);
            if (w.Component == AppModelToDeployment.ProjectComponent && images.All(i => i.Name != name))
                images.Add(new KustomizeImage { Name = name, NewTag = imageTag });
        }
        files.Add(new($"{Folder}/kustomization.yaml", new Kustomization
        {
            Bases = [basePath],
            PatchesJson6902 = patches.Count > 0 ? patches : null,
            Images = images.Count > 0 ? images : null,
        }));
        return files;
    }

    /// <summary>The image without its tag, as kustomize's images transformer matches it.</summary>
    internal static string ImageName(string image)
    {
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? image[..colon] : image;
    }
}

/// <summary>One RFC 6902 operation of a patchesJson6902 file.</summary>
public sealed class JsonPatchOperation
{
    public string Op { get; set; } = "";
    public string Path { get; set; } = "";
    public string? Value { get; set; }
}
