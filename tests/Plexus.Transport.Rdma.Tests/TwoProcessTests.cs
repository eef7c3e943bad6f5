using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Plexus.Transport.Rdma.Tests;

/// <summary>Bulk transfers between two processes on the real UCX: the owner in a process of its own, this one reading and writing.</summary>
public sealed class TwoProcessTests : IDisposable
{
    private readonly UcxBulkTransport _local = new(Options.Create(new UcxBulkOptions { TransferTimeout = TimeSpan.FromSeconds(10) }), NullLogger<UcxBulkTransport>.Instance);

    public void Dispose() => _local.Dispose();

    [Theory]
    [InlineData(1024 * 1024)]
    [InlineData(256 * 1024 * 1024)]
    public async Task This_process_reads_the_other_process_memory_byte_for_byte(int size)
    {
        await using var peer = await PeerProcess.StartAsync(size, BulkAccess.Read, seed: 41);

        var copy = new byte[size];
        await _local.ReadAsync(peer.Descriptor, copy, CancellationToken.None);

        var expected = new byte[size];
        new Random(41).NextBytes(expected);
        Assert.True(expected.AsSpan().SequenceEqual(copy), "the bytes read differ from the other process's");
    }

    [Fact]
    public async Task This_process_writes_64_MiB_into_the_other_process_memory_and_it_holds_every_byte()
    {
        const int Size = 64 * 1024 * 1024;
        await using var peer = await PeerProcess.StartAsync(Size, BulkAccess.ReadWrite, seed: 1);

        var source = new byte[Size];
        new Random(2).NextBytes(source);
        await _local.WriteAsync(peer.Descriptor, source, CancellationToken.None);

        Assert.True(await peer.HoldsAsync(seed: 2), "the other process's memory does not hold the bytes written");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_peer_killed_mid_transfer_fails_the_transfer_with_a_typed_error_within_the_bound(bool peerErrorHandling)
    {
        const int Size = 512 * 1024 * 1024;
        using var local = new UcxBulkTransport(Options.Create(new UcxBulkOptions { TransferTimeout = TimeSpan.FromSeconds(10), PeerErrorHandling = peerErrorHandling }), NullLogger<UcxBulkTransport>.Instance);
        await using var peer = await PeerProcess.StartAsync(Size, BulkAccess.Read, seed: 3);
        var copy = new byte[Size];

        var transfer = local.ReadAsync(peer.Descriptor, copy, CancellationToken.None).AsTask();
        await Task.Delay(50);
        peer.Kill();
        var started = TimeProvider.System.GetTimestamp();

        try
        {
            await transfer;

            // On a fast machine the 512 MiB may all have arrived before the kill: then a second read must fail.
            await local.ReadAsync(peer.Descriptor, copy, CancellationToken.None);
            Assert.Fail("a read from a killed process succeeded");
        }
        catch (PlexusException error)
        {
            Assert.True(error.Code is PlexusErrorCode.Unavailable or PlexusErrorCode.Timeout, error.ToString());
        }

        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(20), "the failed transfer should end within the transfer timeout");
    }
}
