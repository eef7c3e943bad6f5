namespace Plexus.Test.ThrowingComponent;

internal sealed class ThrowingTransportFactory : ITransportFactory
{
    public ThrowingTransportFactory()
    {
        throw new InvalidOperationException("The throwing transport refuses to start.");
    }

    public string Name => "throwing";

    public IRequestPlaneServer CreateServer() => throw new NotSupportedException();

    public IRequestPlaneClient CreateClient() => throw new NotSupportedException();
}
