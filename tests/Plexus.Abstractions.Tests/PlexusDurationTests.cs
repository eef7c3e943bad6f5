using System.ComponentModel;
using System.Globalization;

namespace Plexus.Abstractions.Tests;

public sealed class PlexusDurationTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData(".25s", 250)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData(" 5s ", 5_000)]
    [InlineData("00:00:10", 10_000)]
    [InlineData("00:00:00.250", 250)]
    [InlineData("1.00:00:00", 86_400_000)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    public void Reads_a_number_with_a_unit_or_hh_mm_ss(string text, long milliseconds)
    {
        Assert.True(PlexusDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("5", "has no unit")]
    [InlineData("-5", "is negative")]
    [InlineData("-5s", "is negative")]
    [InlineData("-00:00:05", "is negative")]
    [InlineData("banana", "is not a duration")]
    [InlineData("5 parsecs", "unknown unit")]
    [InlineData("", "is empty")]
    [InlineData("1e9h", "is not a duration")]
    [InlineData("99999999999999h", "longer than any duration")]
    public void Refuses_bare_numbers_negatives_and_nonsense_naming_the_accepted_forms(string text, string problem)
    {
        Assert.False(PlexusDuration.TryParse(text, out _, out var error));

        Assert.Contains(problem, error, StringComparison.Ordinal);
        Assert.Contains("500ms", error, StringComparison.Ordinal);
        Assert.Contains("00:00:10", error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => PlexusDuration.Parse(text));
        Assert.Equal(error, thrown.Message);
    }

    [Fact]
    public void Once_registered_the_converter_is_what_TypeDescriptor_gives_for_TimeSpan()
    {
        PlexusDurationConverter.Register();
        PlexusDurationConverter.Register();

        var converter = TypeDescriptor.GetConverter(typeof(TimeSpan));

        Assert.IsType<PlexusDurationConverter>(converter);
        Assert.Equal(TimeSpan.FromSeconds(5), converter.ConvertFromInvariantString("5s"));
        Assert.Equal("00:00:05", converter.ConvertToInvariantString(TimeSpan.FromSeconds(5)));
        var error = Assert.Throws<FormatException>(() => converter.ConvertFrom(null, CultureInfo.InvariantCulture, "-5"));
        Assert.Contains("'-5'", error.Message, StringComparison.Ordinal);
    }
}
