using System.Text.Json;

namespace Plexus.Abstractions.Tests;

/// <summary>An instance on several transports: <see cref="Instance.Addresses"/>, and how it travels as JSON.</summary>
public sealed class InstanceAddressesTests
{
    private static readonly EndpointAddress Endpoint = new("ns", "comp", "ep");

    private static readonly InstanceAddress[] TcpAndQuic =
    [
        new("tcp", new Uri("tcp://10.0.0.1:7400")),
        new("quic", new Uri("quic://10.0.0.1:7500")),
    ];

    private static Instance Single() => new(Endpoint, new InstanceId(1), "tcp", new Uri("tcp://10.0.0.1:7400"));

    [Fact]
    public void An_instance_made_with_one_address_lists_exactly_that_one()
    {
        var instance = Single();

        Assert.Equal([new InstanceAddress("tcp", new Uri("tcp://10.0.0.1:7400"))], instance.Addresses);
        Assert.True(instance.TryGetAddress("TCP", out var address));
        Assert.Equal(new Uri("tcp://10.0.0.1:7400"), address);
        Assert.False(instance.TryGetAddress("quic", out _));
    }

    [Fact]
    public void Setting_addresses_makes_the_first_one_the_transport_and_address()
    {
        var instance = new Instance(Endpoint, new InstanceId(1), "ignored", new Uri("x://y")) { Addresses = [TcpAndQuic[1], TcpAndQuic[0]] };

        Assert.Equal("quic", instance.Transport);
        Assert.Equal(new Uri("quic://10.0.0.1:7500"), instance.Address);
        Assert.Equal([TcpAndQuic[1], TcpAndQuic[0]], instance.Addresses);
        Assert.True(instance.TryGetAddress("tcp", out var tcp));
        Assert.Equal(TcpAndQuic[0].Address, tcp);
    }

    [Fact]
    public void Changing_the_transport_or_address_of_a_copy_leaves_it_one_address()
    {
        var both = Single() with { Addresses = TcpAndQuic };

        var viaQuic = both with { Transport = "quic", Address = TcpAndQuic[1].Address };

        Assert.Equal([TcpAndQuic[1]], viaQuic.Addresses);
        Assert.Equal(2, both.Addresses.Count);
    }

    [Fact]
    public void The_list_is_copied_so_that_changing_the_callers_array_changes_nothing()
    {
        var array = TcpAndQuic.ToArray();
        var instance = Single() with { Addresses = array };

        array[1] = new InstanceAddress("nats", new Uri("nats://x"));

        Assert.Equal("quic", instance.Addresses[1].Transport);
    }

    [Fact]
    public void Addresses_take_part_in_equality()
    {
        var both = Single() with { Addresses = TcpAndQuic };

        Assert.Equal(both, Single() with { Addresses = TcpAndQuic.ToArray() });
        Assert.NotEqual(both, Single());
        Assert.NotEqual(both, Single() with { Addresses = [TcpAndQuic[0], new InstanceAddress("quic", new Uri("quic://10.0.0.1:7501"))] });
    }

    [Fact]
    public void An_empty_list_or_a_transport_named_twice_is_refused()
    {
        var empty = Assert.Throws<ArgumentException>(() => Single() with { Addresses = [] });
        Assert.Contains("at least one address", empty.Message, StringComparison.Ordinal);

        var twice = Assert.Throws<ArgumentException>(() => Single() with { Addresses = [TcpAndQuic[0], new InstanceAddress("TCP", new Uri("tcp://other:1"))] });
        Assert.Contains("'TCP' is named twice", twice.Message, StringComparison.Ordinal);

        var unnamed = Assert.Throws<ArgumentException>(() => Single() with { Addresses = [new InstanceAddress(" ", new Uri("tcp://other:1"))] });
        Assert.Contains("names no transport", unnamed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_of_an_instance_on_several_transports_reads_back_equal_and_still_names_the_first_for_older_readers()
    {
        var both = Single() with { Addresses = TcpAndQuic };

        using var document = JsonDocument.Parse(Write(both));
        Assert.Equal("tcp", document.RootElement.GetProperty("transport").GetString());
        Assert.Equal("tcp://10.0.0.1:7400", document.RootElement.GetProperty("address").GetString());
        Assert.Equal(2, document.RootElement.GetProperty("addresses").GetArrayLength());
        Assert.True(InstanceJson.TryReadFields(document.RootElement, out var read, out var problem), problem);
        Assert.Equal(both, read);
    }

    [Fact]
    public void Json_of_an_instance_on_one_transport_has_no_addresses_field()
    {
        using var document = JsonDocument.Parse(Write(Single()));

        Assert.False(document.RootElement.TryGetProperty("addresses", out _));
    }

    [Theory]
    [InlineData("[]", "'addresses' is not a non-empty array")]
    [InlineData("{}", "'addresses' is not a non-empty array")]
    [InlineData("[1]", "'addresses' entry 0 is not an object")]
    [InlineData("[{\"transport\":\"tcp\",\"address\":\"tcp://h:1\"},{\"transport\":\"quic\",\"address\":\"not a uri\"}]", "entry 1 has an 'address'")]
    [InlineData("[{\"transport\":\"quic\",\"address\":\"quic://h:2\"},{\"transport\":\"tcp\",\"address\":\"tcp://h:1\"}]", "does not begin with the instance's 'transport' and 'address'")]
    [InlineData("[{\"transport\":\"tcp\",\"address\":\"tcp://h:1\"},{\"transport\":\"tcp\",\"address\":\"tcp://h:2\"}]", "named twice")]
    public void Bad_addresses_are_refused_naming_what_is_wrong(string addresses, string named)
    {
        using var document = JsonDocument.Parse($"{{\"namespace\":\"n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\",\"addresses\":{addresses}}}");

        Assert.False(InstanceJson.TryReadFields(document.RootElement, out var instance, out var problem));
        Assert.Null(instance);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }

    private static byte[] Write(Instance instance)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            InstanceJson.WriteFields(json, instance);
            json.WriteEndObject();
        }

        return stream.ToArray();
    }
}
