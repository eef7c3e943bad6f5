namespace Plexus.Transport.Memory;

/// <summary>What a server knows about one registered endpoint.</summary>
/// <param name="Instance">The instance id requests must name.</param>
/// <param name="Handler">The handler that serves it.</param>
internal sealed record MemoryRegistration(InstanceId Instance, IEndpointHandler Handler);
