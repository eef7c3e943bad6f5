namespace Plexus.Transport.Conformance;

/// <summary>What a peer that writes without reading is pointed at: a server, and an endpoint of it that streams forever.</summary>
/// <param name="Address">The server's address.</param>
/// <param name="Endpoint">An endpoint that writes 1 KiB messages for as long as its writer lets it.</param>
/// <param name="Instance">The instance serving it.</param>
public sealed record FloodTarget(Uri Address, EndpointAddress Endpoint, InstanceId Instance);
