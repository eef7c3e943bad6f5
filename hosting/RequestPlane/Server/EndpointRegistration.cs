namespace Plexus.Hosting.RequestPlane.Server;

/// <summary>An endpoint this process serves, and how to create its handler.</summary>
/// <param name="Endpoint">The endpoint.</param>
/// <param name="CreateHandler">Creates the handler once, when the server starts.</param>
internal sealed record EndpointRegistration(EndpointAddress Endpoint, Func<IServiceProvider, IEndpointHandler> CreateHandler);
