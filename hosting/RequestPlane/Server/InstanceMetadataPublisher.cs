namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>
/// The host's <see cref="IInstanceMetadataPublisher"/>: checks the key and hands the update to the server host, which
/// owns the discovery leases. The host's own keys are refused so that a service cannot misreport its node or bulk path.
/// </summary>
internal sealed class InstanceMetadataPublisher(RequestPlaneServerHost server) : IInstanceMetadataPublisher
{
    public ValueTask<bool> SetAsync(EndpointAddress endpoint, string key, string? value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (key is InstanceMetadataKeys.Node or InstanceMetadataKeys.Bulk or InstanceMetadataKeys.BulkDetails or InstanceMetadataKeys.Capabilities)
        {
            throw new ArgumentException($"The metadata key '{key}' is set by the host; choose another key.", nameof(key));
        }

        return server.UpdateMetadataAsync(endpoint, key, value, cancellationToken);
    }
}
