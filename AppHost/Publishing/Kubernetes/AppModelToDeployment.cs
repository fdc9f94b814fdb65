namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>Maps the app model to a <see cref="DeploymentDescription"/>.</summary>
public static class AppModelToDeployment
{
    public const string ProjectComponent = "project";
    public const string ContainerComponent = "container";
}
