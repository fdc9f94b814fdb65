using FineTune.AppHost.Publishing.Kubernetes;
using k8s.Models;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>
/// The fields each kind needs before an API server (or KEDA's admission webhook) accepts it: the "required" lists of
/// the Kubernetes OpenAPI definitions for the types we write, plus what the API server validates beyond them for
/// these objects (metadata.name, container images, a selector that matches the pod template, claim sizes). Written
/// by hand because ../shared/reference holds no Kubernetes JSON schemas and KubernetesClient 21 has no Validate().
/// </summary>
internal static class RequiredFields
{
    public static IReadOnlyList<string> Problems(object o)
    {
        var p = new List<string>();
        void Need(bool ok, string field) { if (!ok) p.Add(field); }

        switch (o)
        {
            case V1Namespace ns:
                Common(ns.ApiVersion, ns.Kind, ns.Metadata, "v1", "Namespace", Need);
                break;
            case V1ConfigMap cm:
                Common(cm.ApiVersion, cm.Kind, cm.Metadata, "v1", "ConfigMap", Need);
                Need(cm.Data is { Count: > 0 }, "data");
                break;
            case V1Service svc:
                Common(svc.ApiVersion, svc.Kind, svc.Metadata, "v1", "Service", Need);
                Need(svc.Spec?.Selector is { Count: > 0 }, "spec.selector");
                Need(svc.Spec?.Ports is { Count: > 0 }, "spec.ports");
                foreach (var port in svc.Spec?.Ports ?? [])
                {
                    Need(port.Port > 0, "spec.ports[].port");
                    Need(!string.IsNullOrEmpty(port.Name), "spec.ports[].name (required when a Service has several ports)");
                }
                break;
            case V1PersistentVolumeClaim pvc:
                Common(pvc.ApiVersion, pvc.Kind, pvc.Metadata, "v1", "PersistentVolumeClaim", Need);
                Claim(pvc, "spec", Need);
                break;
            case V1Deployment d:
                Common(d.ApiVersion, d.Kind, d.Metadata, "apps/v1", "Deployment", Need);
                Need(d.Spec is not null, "spec");
                Workload(d.Spec?.Selector, d.Spec?.Template, Need);
                break;
            case V1StatefulSet s:
                Common(s.ApiVersion, s.Kind, s.Metadata, "apps/v1", "StatefulSet", Need);
                Need(!string.IsNullOrEmpty(s.Spec?.ServiceName), "spec.serviceName");
                Workload(s.Spec?.Selector, s.Spec?.Template, Need);
                foreach (var t in s.Spec?.VolumeClaimTemplates ?? [])
                {
                    Need(!string.IsNullOrEmpty(t.Metadata?.Name), "spec.volumeClaimTemplates[].metadata.name");
                    Claim(t, "spec.volumeClaimTemplates[].spec", Need);
                }
                break;
            case V2HorizontalPodAutoscaler h:
                Common(h.ApiVersion, h.Kind, h.Metadata, "autoscaling/v2", "HorizontalPodAutoscaler", Need);
                Need(!string.IsNullOrEmpty(h.Spec?.ScaleTargetRef?.Kind) && !string.IsNullOrEmpty(h.Spec?.ScaleTargetRef?.Name), "spec.scaleTargetRef.kind/name");
                Need(h.Spec?.MaxReplicas > 0, "spec.maxReplicas");
                foreach (var m in h.Spec?.Metrics ?? [])
                    Need(!string.IsNullOrEmpty(m.Type) && m.Resource?.Name is not null && m.Resource.Target?.Type is not null, "spec.metrics[].type/resource.name/resource.target.type");
                break;
            case KedaScaledObject so:
                Common(so.ApiVersion, so.Kind, so.Metadata, KedaScaledObject.KedaApiVersion, KedaScaledObject.KindName, Need);
                Need(!string.IsNullOrEmpty(so.Spec.ScaleTargetRef.Name), "spec.scaleTargetRef.name");
                Need(so.Spec.Triggers.Count > 0, "spec.triggers");
                if (so.Spec.Advanced?.ScalingModifiers is { } modifiers)
                {
                    Need(modifiers.Target != "" && modifiers.Formula != "", "spec.advanced.scalingModifiers.formula/target");
                    var names = so.Spec.Triggers.Select(t => t.Name).OfType<string>().ToHashSet();
                    foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(modifiers.Formula, "[A-Za-z_][A-Za-z0-9_-]*"))
                        Need(names.Contains(m.Value), $"spec.triggers[] named '{m.Value}' (used by scalingModifiers.formula)");
                }
                foreach (var t in so.Spec.Triggers)
                {
                    Need(!string.IsNullOrEmpty(t.Type), "spec.triggers[].type");
                    Need(t.Metadata.Count > 0, "spec.triggers[].metadata");
                    if (t.Type == "redis-streams")
                        Need(t.Metadata.ContainsKey("stream") && (t.Metadata.ContainsKey("address") || t.Metadata.ContainsKey("host")), "redis-streams metadata.stream and address");
                }
                break;
            case KedaTriggerAuthentication ta:
                Common(ta.ApiVersion, ta.Kind, ta.Metadata, KedaScaledObject.KedaApiVersion, KedaTriggerAuthentication.KindName, Need);
                Need(ta.Spec.SecretTargetRef.Count > 0, "spec.secretTargetRef");
                foreach (var r in ta.Spec.SecretTargetRef)
                    Need(r.Parameter != "" && r.Name != "" && r.Key != "", "spec.secretTargetRef[].parameter/name/key");
                break;
            default:
                p.Add($"unexpected kind {o.GetType().Name}");
                break;
        }
        return p;
    }

    private static void Common(string? apiVersion, string? kind, V1ObjectMeta? meta, string expectedApiVersion, string expectedKind, Action<bool, string> need)
    {
        need(apiVersion == expectedApiVersion, $"apiVersion {expectedApiVersion}");
        need(kind == expectedKind, $"kind {expectedKind}");
        need(!string.IsNullOrEmpty(meta?.Name), "metadata.name");
        need(meta?.Name is null || System.Text.RegularExpressions.Regex.IsMatch(meta.Name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), "metadata.name is a DNS-1123 label");
    }

    private static void Claim(V1PersistentVolumeClaim pvc, string at, Action<bool, string> need)
    {
        need(pvc.Spec?.AccessModes is { Count: > 0 }, $"{at}.accessModes");
        need(pvc.Spec?.Resources?.Requests?.ContainsKey("storage") == true, $"{at}.resources.requests.storage");
    }

    private static void Workload(V1LabelSelector? selector, V1PodTemplateSpec? template, Action<bool, string> need)
    {
        need(selector?.MatchLabels is { Count: > 0 }, "spec.selector.matchLabels");
        need(template?.Spec is not null, "spec.template.spec");
        var labels = template?.Metadata?.Labels ?? new Dictionary<string, string>();
        need(selector?.MatchLabels?.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value) == true, "spec.selector matches spec.template.metadata.labels");
        need(template?.Spec?.Containers is { Count: > 0 }, "spec.template.spec.containers");
        foreach (var c in template?.Spec?.Containers ?? [])
        {
            need(!string.IsNullOrEmpty(c.Name), "containers[].name");
            need(!string.IsNullOrEmpty(c.Image), "containers[].image");
            foreach (var port in c.Ports ?? [])
                need(port.ContainerPort > 0, "containers[].ports[].containerPort");
            foreach (var e in c.Env ?? [])
            {
                need(!string.IsNullOrEmpty(e.Name), "containers[].env[].name");
                need(e.Value is not null ^ e.ValueFrom is not null, $"containers[].env[{e.Name}]: exactly one of value, valueFrom");
                if (e.ValueFrom?.SecretKeyRef is { } s)
                    need(!string.IsNullOrEmpty(s.Key) && !string.IsNullOrEmpty(s.Name), $"containers[].env[{e.Name}].valueFrom.secretKeyRef.name/key");
                if (e.ValueFrom?.FieldRef is { } f)
                    need(!string.IsNullOrEmpty(f.FieldPath), $"containers[].env[{e.Name}].valueFrom.fieldRef.fieldPath");
            }
            foreach (var m in c.VolumeMounts ?? [])
                need(!string.IsNullOrEmpty(m.Name) && !string.IsNullOrEmpty(m.MountPath), "containers[].volumeMounts[].name/mountPath");
            foreach (var probe in new[] { c.LivenessProbe, c.ReadinessProbe }.OfType<V1Probe>())
            {
                var handlers = (probe.HttpGet is null ? 0 : 1) + (probe.TcpSocket is null ? 0 : 1) + (probe.Exec is null ? 0 : 1) + (probe.Grpc is null ? 0 : 1);
                need(handlers == 1, "probe: exactly one handler");
                need(probe.HttpGet is null || probe.HttpGet.Port is not null, "probe.httpGet.port");
                need(probe.TcpSocket is null || probe.TcpSocket.Port is not null, "probe.tcpSocket.port");
                need(probe.Exec is null || probe.Exec.Command is { Count: > 0 }, "probe.exec.command");
            }
        }
        foreach (var v in template?.Spec?.Volumes ?? [])
        {
            need(!string.IsNullOrEmpty(v.Name), "volumes[].name");
            need(v.PersistentVolumeClaim is null || !string.IsNullOrEmpty(v.PersistentVolumeClaim.ClaimName), "volumes[].persistentVolumeClaim.claimName");
        }
    }
}
