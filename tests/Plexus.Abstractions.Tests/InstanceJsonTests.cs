using System.Buffers;
using System.Text.Json;

namespace Plexus.Abstractions.Tests;

/// <summary>The JSON fields of an instance: what a discovery provider writes, it reads back; bad fields are named.</summary>
public sealed class InstanceJsonTests
{
    private static readonly Instance Sample = new(
        new EndpointAddress("demo.a", "echo", "echo"),
        new InstanceId(0x75bcd15),
        "tcp",
        new Uri("tcp://10.0.0.7:7400"),
        new Dictionary<string, string> { ["zone"] = "b", ["load"] = "0.5" });

    [Fact]
    public void WrittenFields_ReadBack_AsTheSameInstance_BesideTheProvidersOwn()
    {
        var json = Write(Sample, extra: true);

        using var document = JsonDocument.Parse(json);
        Assert.True(InstanceJson.TryReadFields(document.RootElement, out var instance, out var problem), problem);
        Assert.Equal(Sample, instance);
        Assert.Equal(string.Empty, problem);
        Assert.Equal(1, document.RootElement.GetProperty("version").GetInt32());

        // Metadata keys in ordinal order: the same instance always gives the same bytes.
        Assert.Contains("\"metadata\":{\"load\":\"0.5\",\"zone\":\"b\"}", System.Text.Encoding.UTF8.GetString(json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\"}", "'namespace'")]
    [InlineData("{\"namespace\":\"n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"xyz\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\"}", "'id'")]
    [InlineData("{\"namespace\":\"n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"h:1/x y\"}", "'address'")]
    [InlineData("{\"namespace\":\"n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\",\"metadata\":[1]}", "'metadata'")]
    [InlineData("{\"namespace\":\"n n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\"}", "segment")]
    public void BadFields_AreRefused_NamingWhatIsWrong(string text, string named)
    {
        using var document = JsonDocument.Parse(text);

        Assert.False(InstanceJson.TryReadFields(document.RootElement, out var instance, out var problem));
        Assert.Null(instance);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MetadataThatIsNotText_IsKeptAsItsJson()
    {
        using var document = JsonDocument.Parse("{\"namespace\":\"n\",\"component\":\"c\",\"endpoint\":\"e\",\"id\":\"00000000075bcd15\",\"transport\":\"tcp\",\"address\":\"tcp://h:1\",\"metadata\":{\"load\":0.25,\"busy\":true}}");

        Assert.True(InstanceJson.TryReadFields(document.RootElement, out var instance, out _));
        Assert.Equal("0.25", instance.Metadata["load"]);
        Assert.Equal("true", instance.Metadata["busy"]);
    }

    private static byte[] Write(Instance instance, bool extra)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (extra)
            {
                json.WriteNumber("version", 1);
            }

            InstanceJson.WriteFields(json, instance);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
