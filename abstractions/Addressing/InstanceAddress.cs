namespace Plexus;

/// <summary>One way to reach an instance: a transport's name and the address that transport sends to. Since abstractions 2.5.</summary>
/// <param name="Transport">The transport's name, such as <c>tcp</c>.</param>
/// <param name="Address">The address on that transport, such as <c>tcp://10.0.0.5:7400</c>.</param>
public sealed record InstanceAddress(string Transport, Uri Address);
