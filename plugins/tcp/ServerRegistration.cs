namespace Plexus.Transport.Tcp;

/// <summary>An endpoint served on a server: the instance id requests must name, and the handler.</summary>
internal sealed record ServerRegistration(InstanceId Instance, IEndpointHandler Handler);
