namespace Plexus.Abstractions.Tests;

public sealed class InstanceIdTests
{
    [Theory]
    [InlineData("00000000075bcd15", 123456789ul)]
    [InlineData("75BCD15", 123456789ul)]
    [InlineData("0", 0ul)]
    [InlineData("ffffffffffffffff", ulong.MaxValue)]
    public void Parses_one_to_sixteen_hex_digits(string text, ulong value)
    {
        Assert.Equal(new InstanceId(value), InstanceId.Parse(text));
        Assert.True(InstanceId.TryParse(text, out var id));
        Assert.Equal(value, id.Value);
    }

    [Fact]
    public void Prints_sixteen_lowercase_digits_that_parse_back()
    {
        var id = new InstanceId(0xABCDEF);

        Assert.Equal("0000000000abcdef", id.ToString());
        Assert.Equal(id, InstanceId.Parse(id.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("10000000000000000")]
    [InlineData("xyz")]
    [InlineData("0x10")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("12 34")]
    public void Invalid_text_gives_a_message_naming_it_and_the_expected_form(string? text)
    {
        Assert.False(InstanceId.TryParse(text, out var id));
        Assert.Equal(default, id);

        var error = Assert.Throws<FormatException>(() => InstanceId.Parse(text!));
        Assert.Contains($"'{text}' is not an instance id", error.Message, StringComparison.Ordinal);
        Assert.Contains("16 hexadecimal digits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void New_ids_are_non_zero_and_distinct()
    {
        var ids = new HashSet<InstanceId>();
        for (var i = 0; i < 1000; i++)
        {
            var id = InstanceId.NewId();
            Assert.NotEqual(0ul, id.Value);
            Assert.True(ids.Add(id));
        }
    }
}
