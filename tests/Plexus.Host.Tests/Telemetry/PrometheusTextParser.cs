using System.Globalization;
using System.Text;

namespace Plexus.Host.Tests.Telemetry;

/// <summary>
/// A strict reader of the Prometheus text format (0.0.4), independent of the writer: it checks the grammar of
/// every line, unescapes label values, and groups samples under their TYPE.
/// </summary>
internal static class PrometheusTextParser
{
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    internal sealed record Family(string Name, string Type, string? Help, List<Sample> Samples);

    public static Dictionary<string, Family> Parse(string text)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        Family? current = null;
        var lines = text.Split('\n');
        Assert.Equal(string.Empty, lines[^1]); // the text ends with a newline
        foreach (var line in lines[..^1])
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                var name = rest[..space];
                families[name] = current = new Family(name, "untyped", rest[(space + 1)..], []);
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                Assert.Equal(2, parts.Length);
                Assert.Contains(parts[1], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                var help = families.TryGetValue(parts[0], out var existing) ? existing.Help : null;
                Assert.True(existing is null || existing.Samples.Count == 0, $"TYPE after samples of {parts[0]}");
                families[parts[0]] = current = new Family(parts[0], parts[1], help, []);
                continue;
            }

            Assert.False(line.StartsWith('#'), $"unknown comment line: {line}");
            Assert.NotNull(current);
            var sample = ParseSample(line);
            var belongs = sample.Name == current!.Name
                || (current.Type == "histogram" && (sample.Name == current.Name + "_bucket" || sample.Name == current.Name + "_sum" || sample.Name == current.Name + "_count"));
            Assert.True(belongs, $"sample {sample.Name} under family {current.Name}");
            current.Samples.Add(sample);
        }

        return families;
    }

    private static Sample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
        {
            i++;
        }

        var name = line[..i];
        Assert.False(string.IsNullOrEmpty(name), $"no metric name: {line}");
        Assert.False(char.IsAsciiDigit(name[0]), $"metric name starts with a digit: {line}");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var start = i;
                while (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_')
                {
                    i++;
                }

                var label = line[start..i];
                Assert.Equal('=', line[i++]);
                Assert.Equal('"', line[i++]);
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch
                        {
                            'n' => '\n',
                            '\\' => '\\',
                            '"' => '"',
                            var other => throw new FormatException($"bad escape \\{other} in: {line}"),
                        });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                i++;
                labels.Add(label, value.ToString());
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        Assert.Equal(' ', line[i]);
        var number = line[(i + 1)..];
        var parsed = number switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, parsed);
    }
}
