namespace Plexus.Test.Incompatible;

internal sealed class FutureTransportFactory : ITransportFactory
{
    public string Name => "future";
}
