namespace Plexus.Bench.Tests;

public sealed class LoopbackGuardTests
{
    [Theory]
    [InlineData("tcp://127.0.0.1:7400")]
    [InlineData("tcp://127.3.2.1:7400")]
    [InlineData("tcp://[::1]:7400")]
    [InlineData("tcp://localhost:7400")]
    [InlineData("http://127.0.0.1:5000/")]
    [InlineData("memory://a1b2c3")]
    public void Loopback_and_in_process_addresses_are_allowed(string address) =>
        Assert.True(LoopbackGuard.IsAllowed(new Uri(address)));

    [Theory]
    [InlineData("tcp://10.0.0.5:7400")]
    [InlineData("tcp://0.0.0.0:7400")]
    [InlineData("tcp://[2001:db8::1]:7400")]
    [InlineData("tcp://example.com:7400")]
    public void Network_addresses_are_refused(string address)
    {
        Assert.False(LoopbackGuard.IsAllowed(new Uri(address)));
        var ex = Assert.Throws<BenchFailedException>(() => LoopbackGuard.Ensure(new Uri(address), "tcp"));
        Assert.Contains("loopback", ex.Message, StringComparison.Ordinal);
    }
}
