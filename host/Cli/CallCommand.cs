using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus.Hosting.RequestPlane.Client;

namespace Plexus.Host.Cli;

/// <summary><c>call</c>: sends one request and prints the response stream as it arrives.</summary>
internal static class CallCommand
{
    /// <param name="Data">The <c>--data</c> value as given (text, <c>@file</c> or <c>@-</c>); read by <see cref="ReadPayload"/>
    /// once the payload limit is known, so that a file over it is refused before a byte of it is read.</param>
    public sealed record Request(EndpointAddress Endpoint, string? Data, Dictionary<string, string> Headers, TimeSpan? Timeout, InstanceId? Instance, bool Lines, bool Json);

    // Every built-in transport's default MaxPayloadBytes.
    private const long DefaultMaxPayloadBytes = 256L * 1024 * 1024;

    public static Request Parse(ParsedArguments args)
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
        var data = args.Value("data");
        if (data is not null && data.StartsWith('@') && data != "@-" && !File.Exists(data[1..]))
        {
            throw new UsageException($"--data {data}: file '{Path.GetFullPath(data[1..])}' does not exist.");
        }

        return new Request(endpoint, data, headers, timeout, instance, args.Has("lines"), args.Has("json"));
    }

    /// <summary>
    /// The largest payload the call may send, and the setting that raises it: <c>MaxPayloadBytes</c> of the transport
    /// this node prefers (the first of <c>Plexus:RequestPlane:Transports</c>, or <c>Plexus:RequestPlane:Transport</c>), as
    /// every built-in transport names it.
    /// </summary>
    public static (long Limit, string Key) PayloadLimit(IConfiguration configuration)
    {
        var transport = Plexus.Hosting.Configuration.TransportSelection.Read(configuration)?.Names is [{ Length: > 0 } name, ..] ? name : "memory";
        var key = $"Plexus:Transports:{char.ToUpperInvariant(transport[0])}{transport[1..]}:MaxPayloadBytes";
        return (configuration.GetValue<long?>(key) ?? DefaultMaxPayloadBytes, key);
    }

    /// <summary>Reads the payload <c>--data</c> names, refusing one over <paramref name="limit"/> before reading it whole.</summary>
    /// <exception cref="UsageException">A file or standard input holds more than the limit.</exception>
    public static byte[] ReadPayload(string? data, Func<Stream> stdin, long limit, string limitKey)
    {
        if (data is null)
        {
            return [];
        }

        if (data == "@-")
        {
            using var input = stdin();
            return ReadAtMost(input, limit, () => new UsageException($"--data @-: standard input holds more than {limit} bytes, the limit {limitKey} sets; send less, or raise {limitKey}.", showUsage: false));
        }

        if (data.StartsWith('@'))
        {
            var path = Path.GetFullPath(data[1..]);
            var size = new FileInfo(path).Length;
            if (size > limit)
            {
                throw TooLarge(path, $"{size} bytes", limit, limitKey);
            }

            // The size can change between the look and the read, and some files (pipes, /proc) report none: the read
            // stops one byte past the limit whatever the file says.
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            return ReadAtMost(file, limit, () => TooLarge(path, $"more than {limit} bytes", limit, limitKey), size);
        }

        var text = Encoding.UTF8.GetBytes(data);
        return text.Length <= limit ? text : throw new UsageException($"--data is {text.Length} bytes, over the limit of {limit} bytes that {limitKey} sets; send less, or raise {limitKey}.", showUsage: false);
    }

    private static UsageException TooLarge(string path, string size, long limit, string limitKey) =>
        new($"--data @{path}: the file is {size}, over the limit of {limit} bytes that {limitKey} sets; send a smaller file, or raise {limitKey} (on the nodes that serve the endpoint too).", showUsage: false);

    private static byte[] ReadAtMost(Stream input, long limit, Func<UsageException> tooLarge, long expected = 0)
    {
        using var buffer = new MemoryStream((int)Math.Min(expected, int.MaxValue));
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw tooLarge();
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    public static async Task<int> RunAsync(IHost host, Request request, byte[] payload, Stream output, TextWriter error, CancellationToken cancellationToken)
    {
        var router = host.Services.GetRequiredService<PlexusClient>();
        var index = 0;
        var endedWithNewline = true;
        try
        {
            await using var stream = await router.CallAsync(
                request.Endpoint,
                new ReadOnlySequence<byte>(payload),
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
