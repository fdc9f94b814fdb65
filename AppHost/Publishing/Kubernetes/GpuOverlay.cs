using k8s.Models;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// The example overlay overlays/gpu: what a real GPU cluster usually adds to the base. Every workload that asks for
/// GPUs is pinned to GPU nodes (node selector of NVIDIA's GPU feature discovery label) and tolerates the usual
/// nvidia.com/gpu taint (its image is already the CUDA build in the base: a GPU request with a CPU libtorch would hold
/// the GPU idle); the shared data claim gets a ReadWriteMany storage class. Patches are strategic-merge patches written as typed,
/// partial objects.
/// </summary>
public static class GpuOverlay
{
    public const string Folder = "overlays/gpu";
    public const string GpuNodeLabel = "nvidia.com/gpu.present";
    public const string ExampleStorageClass = "nfs-csi";

    public static IReadOnlyList<ManifestFile> Create(DeploymentDescription description, string dataClaimName, string basePath)
    {
        var files = new List<ManifestFile>();
        var patches = new List<string>();
        foreach (var w in description.Workloads.Where(w => w.Gpus > 0))
        {
            var spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = w.Name }],
                NodeSelector = new SortedDictionary<string, string>(StringComparer.Ordinal) { [GpuNodeLabel] = "true" },
                Tolerations = [new V1Toleration { Key = KubernetesObjectFactory.GpuResource, OperatorProperty = "Exists", Effect = "NoSchedule" }],
            };
            // Strategic merge needs a container to merge with by name, but no other field of it: keep Image unset.
            spec.Containers[0].Image = null;
            var template = new V1PodTemplateSpec { Spec = spec };
            object patch = w.Kind == WorkloadKind.StatefulSet
                ? new V1StatefulSet { ApiVersion = "apps/v1", Kind = "StatefulSet", Metadata = new V1ObjectMeta { Name = w.Name }, Spec = new V1StatefulSetSpec { Template = template } }
                : new V1Deployment { ApiVersion = "apps/v1", Kind = "Deployment", Metadata = new V1ObjectMeta { Name = w.Name }, Spec = new V1DeploymentSpec { Template = template } };
            var file = $"{w.Name}-gpu-nodes.yaml";
            files.Add(new($"{Folder}/{file}", patch));
            patches.Add(file);
        }
        if (description.SharedClaims.Any(c => c.Name == dataClaimName))
        {
            var file = $"{dataClaimName}-storage-class.yaml";
            files.Add(new($"{Folder}/{file}", new V1PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = new V1ObjectMeta { Name = dataClaimName },
                Spec = new V1PersistentVolumeClaimSpec { StorageClassName = ExampleStorageClass },
            }));
            patches.Add(file);
        }
        files.Add(new($"{Folder}/kustomization.yaml", new Kustomization
        {
            Bases = [basePath],
            PatchesStrategicMerge = patches.Count > 0 ? patches : null,
        }));
        return files;
    }
}
