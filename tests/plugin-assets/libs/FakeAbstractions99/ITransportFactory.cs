namespace Plexus;

public interface ITransportFactory
{
    string Name { get; }
}
