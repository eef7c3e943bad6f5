namespace Plexus.Abstractions.Tests;

public sealed class InstanceTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "ep");

    [Fact]
    public void Instances_with_equal_fields_and_equal_metadata_in_different_maps_are_equal()
    {
        var a = Make(new Dictionary<string, string> { ["load"] = "0.5", ["node"] = "n1" });
        var b = Make(new Dictionary<string, string> { ["node"] = "n1", ["load"] = "0.5" });

        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Different_metadata_makes_instances_unequal()
    {
        var a = Make(new Dictionary<string, string> { ["load"] = "0.5" });

        Assert.NotEqual(a, Make(new Dictionary<string, string> { ["load"] = "0.6" }));
        Assert.NotEqual(a, Make(new Dictionary<string, string> { ["busy"] = "0.5" }));
        Assert.NotEqual(a, Make(new Dictionary<string, string> { ["load"] = "0.5", ["node"] = "n1" }));
        Assert.NotEqual(a, Make(Instance.EmptyMetadata));
    }

    [Fact]
    public void Different_identity_fields_make_instances_unequal()
    {
        var a = Make(Instance.EmptyMetadata);

        Assert.NotEqual(a, a with { Id = new InstanceId(2) });
        Assert.NotEqual(a, a with { Transport = "nats" });
        Assert.NotEqual(a, a with { Address = new Uri("tcp://10.0.0.2:7400") });
        Assert.NotEqual(a, a with { Endpoint = new EndpointAddress("ns", "comp", "other") });
        Assert.False(a.Equals(null));
    }

    [Fact]
    public void The_short_constructor_has_empty_metadata()
    {
        var instance = new Instance(Endpoint, new InstanceId(1), "tcp", new Uri("tcp://10.0.0.1:7400"));

        Assert.Empty(instance.Metadata);
        Assert.Equal(Make(new Dictionary<string, string>()), instance);
    }

    [Theory]
    [InlineData("0.75", 0.75)]
    [InlineData("3", 3.0)]
    [InlineData("1e-3", 0.001)]
    [InlineData("-2.5", -2.5)]
    [InlineData("0,75", 0.0)]
    [InlineData("heavy", 0.0)]
    [InlineData("", 0.0)]
    public void Load_reads_the_invariant_number_or_zero(string text, double expected)
    {
        Assert.Equal(expected, Make(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = text }).Load);
    }

    [Fact]
    public void Load_without_the_key_is_zero()
    {
        Assert.Equal(0.0, Make(Instance.EmptyMetadata).Load);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("yes", false)]
    [InlineData("1", false)]
    public void IsBusy_is_true_only_for_true(string text, bool expected)
    {
        Assert.Equal(expected, Make(new Dictionary<string, string> { [InstanceMetadataKeys.Busy] = text }).IsBusy);
    }

    [Fact]
    public void IsBusy_without_the_key_is_false()
    {
        Assert.False(Make(Instance.EmptyMetadata).IsBusy);
    }

    [Fact]
    public void A_route_candidate_reports_its_instance_load()
    {
        var candidate = new RouteCandidate(Make(new Dictionary<string, string> { [InstanceMetadataKeys.Load] = "0.25" }), InFlight: 3);

        Assert.Equal(0.25, candidate.Load);
        Assert.Equal(3, candidate.InFlight);
    }

    [Fact]
    public void A_copy_with_new_metadata_reports_the_new_load_and_busy_flag()
    {
        var idle = Make(new Dictionary<string, string> { ["load"] = "0.25" });
        Assert.Equal(0.25, idle.Load);
        Assert.False(idle.IsBusy);

        var busy = idle with { Metadata = new Dictionary<string, string> { ["load"] = "0.9", ["busy"] = "true" } };

        Assert.Equal(0.9, busy.Load);
        Assert.True(busy.IsBusy);
        Assert.Equal(0.25, idle.Load);
    }

    private static Instance Make(IReadOnlyDictionary<string, string> metadata) =>
        new(Endpoint, new InstanceId(1), "tcp", new Uri("tcp://10.0.0.1:7400"), metadata);
}
