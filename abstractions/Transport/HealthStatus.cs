namespace Plexus;

/// <summary>A component's health.</summary>
public enum HealthStatus
{
    /// <summary>Working.</summary>
    Healthy = 0,

    /// <summary>Working with reduced service, such as while reconnecting or draining.</summary>
    Degraded = 1,

    /// <summary>Not working.</summary>
    Unhealthy = 2,
}
