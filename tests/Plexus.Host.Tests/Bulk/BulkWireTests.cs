using System.Buffers;
using Plexus.Hosting.Bulk;

namespace Plexus.Host.Tests.Bulk;

/// <summary>The request plane's bulk record and hold ids (docs/protocol/bulk.md): what is written is read back, and a malformed record is refused naming what is wrong.</summary>
public sealed class BulkWireTests
{
    [Fact]
    public void A_record_reads_back_with_the_payloads_length_and_the_transports_token()
    {
        var region = new BulkDescriptor("ucx", 1 << 20, new byte[] { 1, 2, 3, 4, 5 });

        var record = BulkWire.Record(region, 4000);
        var read = BulkWire.ReadRecord(new ReadOnlySequence<byte>(record), "ucx");

        Assert.Equal(12 + 5, record.Length);
        Assert.Equal(("ucx", 4000L, BulkMemoryType.Host), (read.Transport, read.Length, read.MemoryType));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, read.Token.ToArray());
    }

    [Fact]
    public void A_record_split_across_segments_reads_the_same()
    {
        var record = BulkWire.Record(new BulkDescriptor("ucx", 64, new byte[] { 9, 8, 7 }), 64);
        var split = Segments.Of(record[..5], record[5..]);

        var read = BulkWire.ReadRecord(split, "ucx");

        Assert.Equal(64, read.Length);
        Assert.Equal(new byte[] { 9, 8, 7 }, read.Token.ToArray());
    }

    [Theory]
    [InlineData("short", "fewer than the record's 12-byte head")]
    [InlineData("version", "version 2")]
    [InlineData("memory", "memory type 1")]
    [InlineData("length", "a length of 0")]
    public void A_malformed_record_is_a_protocol_error_naming_what_is_wrong(string fault, string expected)
    {
        var record = BulkWire.Record(new BulkDescriptor("ucx", 64, new byte[] { 1 }), 64);
        switch (fault)
        {
            case "short": record = record[..11]; break;
            case "version": record[0] = 2; break;
            case "memory": record[1] = 1; break;
            case "length": Array.Clear(record, 4, 8); break;
        }

        var error = Assert.Throws<PlexusException>(() => BulkWire.ReadRecord(new ReadOnlySequence<byte>(record), "ucx"));

        Assert.Equal(PlexusErrorCode.ProtocolError, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hold_ids_read_back_and_a_short_one_is_refused()
    {
        Assert.Equal(0xFEDCBA9876543210UL, BulkWire.ReadHoldId(new ReadOnlySequence<byte>(BulkWire.HoldId(0xFEDCBA9876543210UL))));
        Assert.Equal(PlexusErrorCode.ProtocolError, Assert.Throws<PlexusException>(() => BulkWire.ReadHoldId(new ReadOnlySequence<byte>(new byte[7]))).Code);
    }

    /// <summary>A sequence of several segments.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public static ReadOnlySequence<byte> Of(byte[] first, byte[] second)
        {
            var head = new Segments(first, 0);
            var tail = new Segments(second, first.Length);
            head.Next = tail;
            return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
        }
    }
}
