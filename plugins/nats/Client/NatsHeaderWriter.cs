using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Plexus.Transport.Nats.Client;

/// <summary>
/// Builds a NATS header block into a reusable buffer: <c>NATS/1.0\r\n</c>, <c>Name: value\r\n</c> lines and the closing
/// blank line. Not thread-safe; one per writer.
/// </summary>
internal sealed class NatsHeaderWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    /// <summary>Creates a writer.</summary>
    /// <param name="initialCapacity">The starting buffer size; it grows as needed.</param>
    public NatsHeaderWriter(int initialCapacity = 256)
    {
        _buffer = new ArrayBufferWriter<byte>(initialCapacity);
    }

    /// <summary>The block written so far; complete after <see cref="End"/>.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    /// <summary>Starts a new block, discarding the previous one.</summary>
    /// <returns>This writer.</returns>
    public NatsHeaderWriter Start()
    {
        _buffer.ResetWrittenCount();
        _buffer.Write("NATS/1.0\r\n"u8);
        return this;
    }

    /// <summary>Adds a header with a byte value.</summary>
    /// <param name="name">The name: visible ASCII without ':'.</param>
    /// <param name="value">The value: any bytes but CR and LF.</param>
    /// <returns>This writer.</returns>
    public NatsHeaderWriter Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        _buffer.Write(name);
        _buffer.Write(": "u8);
        _buffer.Write(value);
        _buffer.Write("\r\n"u8);
        return this;
    }

    /// <summary>Adds a header with a number value.</summary>
    /// <param name="name">The name.</param>
    /// <param name="value">The value.</param>
    /// <returns>This writer.</returns>
    public NatsHeaderWriter Add(ReadOnlySpan<byte> name, long value)
    {
        _buffer.Write(name);
        _buffer.Write(": "u8);
        var span = _buffer.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        _buffer.Advance(written);
        _buffer.Write("\r\n"u8);
        return this;
    }

    /// <summary>Adds a header with a text value, written as UTF-8.</summary>
    /// <param name="name">The name.</param>
    /// <param name="value">The value.</param>
    /// <returns>This writer.</returns>
    public NatsHeaderWriter Add(string name, string value)
    {
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        Encoding.UTF8.GetBytes(name, _buffer.GetSpan(nameBytes));
        _buffer.Advance(nameBytes);
        _buffer.Write(": "u8);
        var valueBytes = Encoding.UTF8.GetByteCount(value);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(valueBytes));
        _buffer.Advance(valueBytes);
        _buffer.Write("\r\n"u8);
        return this;
    }

    /// <summary>Ends the block with the blank line.</summary>
    /// <returns>The complete block, valid until the next <see cref="Start"/>.</returns>
    public ReadOnlyMemory<byte> End()
    {
        _buffer.Write("\r\n"u8);
        return _buffer.WrittenMemory;
    }

    /// <summary>Whether <paramref name="name"/> can be a header name: visible ASCII without ':'.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is <= ' ' or >= (char)0x7F or ':')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="value"/> can be a header value: no CR or LF.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidValue(string value) => value.AsSpan().IndexOfAny('\r', '\n') < 0;
}
