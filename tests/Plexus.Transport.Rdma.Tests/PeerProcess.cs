using System.Diagnostics;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>
/// The owner side of a bulk transfer in a process of its own (tests/Plexus.Transport.Rdma.Peer): it registers memory
/// filled from a seed and prints the descriptor; it can check its memory after a peer's write, or be killed.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private PeerProcess(Process process, BulkDescriptor descriptor)
    {
        _process = process;
        Descriptor = descriptor;
    }

    public BulkDescriptor Descriptor { get; }

    public static async Task<PeerProcess> StartAsync(int size, BulkAccess access, int seed)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(PeerAssembly());
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(access == BulkAccess.ReadWrite ? "readwrite" : "read");
        start.ArgumentList.Add(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(start) ?? throw new InvalidOperationException("The bulk peer process did not start.");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("descriptor ", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync();
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The bulk peer did not print its descriptor: '{line}' {error}");
        }

        var parts = line.Split(' ');
        var descriptor = new BulkDescriptor("ucx", long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), Convert.FromBase64String(parts[2]));
        return new PeerProcess(process, descriptor);
    }

    /// <summary>Whether the peer's memory holds the bytes <paramref name="seed"/> makes.</summary>
    public async Task<bool> HoldsAsync(int seed)
    {
        await _process.StandardInput.WriteLineAsync($"check {seed}");
        await _process.StandardInput.FlushAsync();
        return await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) == "ok";
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await _process.StandardInput.WriteLineAsync("quit");
                await _process.StandardInput.FlushAsync();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception exception) when (exception is IOException or TimeoutException or InvalidOperationException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    // The peer is built beside this project (a project reference that is not an assembly reference), in the same configuration.
    private static string PeerAssembly()
    {
        var here = AppContext.BaseDirectory; // tests/Plexus.Transport.Rdma.Tests/bin/<Configuration>/net10.0/
        var framework = new DirectoryInfo(here.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        var tests = configuration.Parent!.Parent!.Parent!;
        var path = Path.Combine(tests.FullName, "Plexus.Transport.Rdma.Peer", "bin", configuration.Name, framework.Name, "Plexus.Transport.Rdma.Peer.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The bulk peer is not built at {path}; build Plugins.sln.");
    }
}
