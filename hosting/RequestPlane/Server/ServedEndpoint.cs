namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>An endpoint this process serves right now, as registered in discovery.</summary>
/// <param name="Instance">The instance as discovery knows it.</param>
internal sealed record ServedEndpoint(Instance Instance);
