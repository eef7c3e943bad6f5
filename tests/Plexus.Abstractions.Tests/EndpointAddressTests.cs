namespace Plexus.Abstractions.Tests;

public sealed class EndpointAddressTests
{
    [Theory]
    [InlineData("dynamo/backend/generate")]
    [InlineData("a/b/c")]
    [InlineData("ns-1/comp_2/end.point")]
    [InlineData("A1/B2/C3")]
    public void Parses_valid_addresses_and_prints_them_back(string text)
    {
        var address = EndpointAddress.Parse(text);

        Assert.Equal(text, address.ToString());
        Assert.True(EndpointAddress.TryParse(text, out var again));
        Assert.Equal(address, again);
    }

    [Fact]
    public void Splits_into_its_segments()
    {
        var address = EndpointAddress.Parse("dynamo/backend/generate");

        Assert.Equal("dynamo", address.Namespace);
        Assert.Equal("backend", address.Component);
        Assert.Equal("generate", address.Endpoint);
        Assert.Equal(new EndpointAddress("dynamo", "backend", "generate"), address);
    }

    [Fact]
    public void A_segment_of_64_characters_is_allowed()
    {
        var longest = new string('x', 64);
        Assert.Equal(longest, EndpointAddress.Parse($"{longest}/b/c").Namespace);
    }

    [Theory]
    [InlineData(null, "address is required")]
    [InlineData("", "address is required")]
    [InlineData("a/b", "three segments")]
    [InlineData("a", "three segments")]
    [InlineData("a/b/c/d", "three segments")]
    [InlineData("a//c", "a segment is empty")]
    [InlineData("/b/c", "a segment is empty")]
    [InlineData("a/b/", "a segment is empty")]
    [InlineData("a/b c/d", "contains ' '")]
    [InlineData("a/b/c?", "contains '?'")]
    [InlineData("caf\u00e9/b/c", "contains '\u00e9'")]
    [InlineData("a/b:c/d", "contains ':'")]
    public void Invalid_text_gives_a_message_that_names_the_problem(string? text, string problem)
    {
        Assert.False(EndpointAddress.TryParse(text, out var address));
        Assert.Equal(default, address);

        var error = Assert.Throws<FormatException>(() => EndpointAddress.Parse(text!));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        if (!string.IsNullOrEmpty(text))
        {
            Assert.Contains($"'{text}' is not an endpoint address", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_segment_over_64_characters_is_named_as_too_long()
    {
        var tooLong = new string('x', 65);

        var error = Assert.Throws<FormatException>(() => EndpointAddress.Parse($"a/{tooLong}/c"));

        Assert.Contains(tooLong, error.Message, StringComparison.Ordinal);
        Assert.Contains("longer than 64 characters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "b", "c", "namespace")]
    [InlineData("a", "", "c", "component")]
    [InlineData("a", "b", "c d", "endpoint")]
    public void The_constructor_names_the_bad_argument(string ns, string component, string endpoint, string parameter)
    {
        var error = Assert.Throws<ArgumentException>(() => new EndpointAddress(ns, component, endpoint));

        Assert.Equal(parameter, error.ParamName);
    }
}
