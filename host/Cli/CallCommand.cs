using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Host.RequestPlane.Client;

namespace Plexus.Host.Cli;

/// <summary><c>call</c>: sends one request and prints the response stream as it arrives.</summary>
internal static class CallCommand
{
    public sealed record Request(EndpointAddress Endpoint, byte[] Payload, Dictionary<string, string> Headers, TimeSpan? Timeout, InstanceId? Instance, bool Lines, bool Json);

    public static Request Parse(ParsedArguments args, TextReader stdin)
    {
        args.Allow("data", "header", "timeout", "instance", "lines", "json", "serve", "no-serve");
        if (args.Positional.Count != 1)
        {
            throw new UsageException(args.Positional.Count == 0 ? "'call' needs the endpoint to call, such as demo/echo/generate." : "'call' takes one endpoint.");
        }

        if (!EndpointAddress.TryParse(args.Positional[0], out var endpoint))
        {
            throw new UsageException($"'{args.Positional[0]}' is not an endpoint: write namespace/component/endpoint, such as demo/echo/generate.");
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in args.Values("header"))
        {
            var eq = header.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"--header '{header}' is not key=value.");
            }

            headers[header[..eq]] = header[(eq + 1)..];
        }

        InstanceId? instance = null;
        if (args.Value("instance") is string id)
        {
            instance = InstanceId.TryParse(id, out var parsed) ? parsed : throw new UsageException($"--instance '{id}' is not an instance id: write up to 16 hex digits as listed by 'instances'.");
        }

        var timeout = args.Value("timeout") is string t ? DurationParser.Parse("timeout", t) : (TimeSpan?)null;
        return new Request(endpoint, ReadPayload(args.Value("data"), stdin), headers, timeout, instance, args.Has("lines"), args.Has("json"));
    }

    private static byte[] ReadPayload(string? data, TextReader stdin)
    {
        if (data is null)
        {
            return [];
        }

        if (data == "@-")
        {
            return Encoding.UTF8.GetBytes(stdin.ReadToEnd());
        }

        if (data.StartsWith('@'))
        {
            var path = data[1..];
            if (!File.Exists(path))
            {
                throw new UsageException($"--data {data}: file '{Path.GetFullPath(path)}' does not exist.");
            }

            return File.ReadAllBytes(path);
        }

        return Encoding.UTF8.GetBytes(data);
    }

    public static async Task<int> RunAsync(IHost host, Request request, Stream output, TextWriter error, CancellationToken cancellationToken)
    {
        var router = host.Services.GetRequiredService<PushRouter>();
        var index = 0;
        var endedWithNewline = true;
        try
        {
            await using var stream = await router.CallAsync(
                request.Endpoint,
                new ReadOnlySequence<byte>(request.Payload),
                new CallOptions(request.Headers, request.Timeout, request.Instance),
                cancellationToken);
            while (await stream.MoveNextAsync(cancellationToken))
            {
                var message = stream.Current;
                if (request.Json)
                {
                    WriteJson(output, index, message);
                }
                else
                {
                    foreach (var segment in message)
                    {
                        output.Write(segment.Span);
                    }

                    if (request.Lines)
                    {
                        output.WriteByte((byte)'\n');
                    }

                    endedWithNewline = request.Lines || (message.Length > 0 ? message.Slice(message.Length - 1).FirstSpan[0] == (byte)'\n' : endedWithNewline);
                }

                await output.FlushAsync(cancellationToken);
                index++;
            }

            if (!endedWithNewline)
            {
                output.WriteByte((byte)'\n');
            }

            await output.FlushAsync(CancellationToken.None);
            return ExitCodes.Ok;
        }
        catch (PlexusException ex)
        {
            await output.FlushAsync(CancellationToken.None);
            if (!endedWithNewline)
            {
                output.WriteByte((byte)'\n');
            }

            await error.WriteLineAsync($"error: {ex.Code}: {ex.Message}");
            return ExitCodes.RequestFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"error: {PlexusErrorCode.Cancelled}: the call was cancelled.");
            return ExitCodes.RequestFailed;
        }
    }

    private static void WriteJson(Stream output, int index, ReadOnlySequence<byte> message)
    {
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", index);
            var bytes = message.ToArray();
            if (IsUtf8(bytes))
            {
                writer.WriteString("text", Encoding.UTF8.GetString(bytes));
            }
            else
            {
                writer.WriteBase64String("base64", bytes);
            }

            writer.WriteEndObject();
        }

        output.WriteByte((byte)'\n');
    }

    private static bool IsUtf8(byte[] bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
