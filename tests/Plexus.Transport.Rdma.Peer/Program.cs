using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plexus;
using Plexus.Transport.Rdma;

// The owner side of the two-process bulk tests. `serve <bytes> <read|readwrite> <seed>` registers a buffer filled
// from the seed and prints `descriptor <length> <base64 token>`; then, line by line on stdin: `check <seed>` answers
// `ok` when the buffer holds the bytes that seed makes (after a peer's write), `bad` otherwise; `quit` ends.
if (args.Length != 4 || args[0] != "serve")
{
    Console.Error.WriteLine("usage: Plexus.Transport.Rdma.Peer serve <bytes> <read|readwrite> <seed>");
    return 2;
}

var size = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var access = args[2] == "readwrite" ? BulkAccess.ReadWrite : BulkAccess.Read;
var seed = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);

using var transport = new UcxBulkTransport(Options.Create(new UcxBulkOptions()), NullLogger<UcxBulkTransport>.Instance);
if (!transport.IsAvailable)
{
    Console.Error.WriteLine($"unavailable: {transport.UnavailableReason}");
    return 1;
}

var buffer = new byte[size];
new Random(seed).NextBytes(buffer);
using var region = await transport.RegisterAsync(buffer, access, CancellationToken.None);
Console.WriteLine($"descriptor {region.Descriptor.Length} {Convert.ToBase64String(region.Descriptor.Token.Span)}");
Console.Out.Flush();

while (Console.ReadLine() is { } line)
{
    var parts = line.Split(' ');
    if (parts[0] == "quit")
    {
        break;
    }

    if (parts[0] == "check" && parts.Length == 2)
    {
        var expected = new byte[size];
        new Random(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)).NextBytes(expected);
        Console.WriteLine(expected.AsSpan().SequenceEqual(buffer) ? "ok" : "bad");
        Console.Out.Flush();
    }
}

return 0;
