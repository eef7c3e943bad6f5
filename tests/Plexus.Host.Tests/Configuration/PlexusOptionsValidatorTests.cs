using Plexus.Hosting.Configuration;

namespace Plexus.Host.Tests.Configuration;

public sealed class PlexusOptionsValidatorTests
{
    private readonly PlexusOptionsValidator _validator = new();

    [Fact]
    public void Defaults_are_valid() => Assert.True(_validator.Validate(null, new PlexusOptions()).Succeeded);

    [Theory]
    [InlineData("Plexus:RequestPlane:Transport")]
    [InlineData("Plexus:RequestPlane:Codec")]
    [InlineData("Plexus:Discovery:Provider")]
    [InlineData("Plexus:Router:Strategy")]
    [InlineData("Plexus:Discovery:LeaseTtl")]
    [InlineData("Plexus:Router:MaxRetries")]
    [InlineData("Plexus:Router:MaxInFlightPerInstance")]
    [InlineData("Plexus:Server:DrainTimeout")]
    [InlineData("Plexus:RequestPlane:DefaultTimeout")]
    [InlineData("Plexus:Bulk:Threshold")]
    [InlineData("Plexus:Bulk:MaxBytes")]
    [InlineData("Plexus:Bulk:HoldTimeout")]
    [InlineData("Plexus:Bulk:PoolBytes")]
    [InlineData("Plexus:Bulk:InlineAfterFailure")]
    public void Each_bad_value_names_its_key(string key)
    {
        var options = new PlexusOptions();
        switch (key)
        {
            case "Plexus:RequestPlane:Transport": options.RequestPlane.Transport = " "; break;
            case "Plexus:RequestPlane:Codec": options.RequestPlane.Codec = ""; break;
            case "Plexus:Discovery:Provider": options.Discovery.Provider = ""; break;
            case "Plexus:Router:Strategy": options.Router.Strategy = ""; break;
            case "Plexus:Discovery:LeaseTtl": options.Discovery.LeaseTtl = TimeSpan.FromMilliseconds(5); break;
            case "Plexus:Router:MaxRetries": options.Router.MaxRetries = 99; break;
            case "Plexus:Router:MaxInFlightPerInstance": options.Router.MaxInFlightPerInstance = -1; break;
            case "Plexus:Server:DrainTimeout": options.Server.DrainTimeout = TimeSpan.FromSeconds(-1); break;
            case "Plexus:RequestPlane:DefaultTimeout": options.RequestPlane.DefaultTimeout = TimeSpan.FromSeconds(-1); break;
            case "Plexus:Bulk:Threshold": options.Bulk.Threshold = 100; break;
            case "Plexus:Bulk:MaxBytes": options.Bulk.MaxBytes = 4096; break;
            case "Plexus:Bulk:HoldTimeout": options.Bulk.HoldTimeout = TimeSpan.FromMilliseconds(10); break;
            case "Plexus:Bulk:PoolBytes": options.Bulk.PoolBytes = -1; break;
            case "Plexus:Bulk:InlineAfterFailure": options.Bulk.InlineAfterFailure = TimeSpan.FromSeconds(-1); break;
        }

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains(key, failure, StringComparison.Ordinal);
    }
}
