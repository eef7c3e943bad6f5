namespace Plexus.Transport.Nats;

/// <summary>
/// Reads a NATS header block (<c>NATS/1.0[ status[ description]]\r\n</c>, then <c>Name: value\r\n</c> lines, then a
/// blank line) without allocating: the status is parsed once, the headers are enumerated as spans of the block.
/// </summary>
internal ref struct NatsHeaderReader
{
    private static ReadOnlySpan<byte> Version => "NATS/1.0"u8;

    private ReadOnlySpan<byte> _rest;

    /// <summary>Starts reading a header block.</summary>
    /// <param name="block">The whole block.</param>
    /// <exception cref="FormatException">The block does not start with a valid status line.</exception>
    public NatsHeaderReader(ReadOnlySpan<byte> block)
    {
        var lineEnd = block.IndexOf("\r\n"u8);
        if (lineEnd < 0 || !block.StartsWith(Version))
        {
            throw new FormatException("A message's header block does not start with a 'NATS/1.0' status line.");
        }

        var status = block[Version.Length..lineEnd].TrimStart((byte)' ');
        Status = 0;
        Description = default;
        if (!status.IsEmpty)
        {
            var space = status.IndexOf((byte)' ');
            var code = space < 0 ? status : status[..space];
            if (code.Length != 3 || !int.TryParse(code, out var value))
            {
                throw new FormatException("A message's header block has a status line with an invalid status code.");
            }

            Status = value;
            Description = space < 0 ? default : status[(space + 1)..].Trim((byte)' ');
        }

        _rest = block[(lineEnd + 2)..];
        Name = default;
        Value = default;
    }

    /// <summary>The status code of the status line (503 for no responders), or 0 when there is none.</summary>
    public int Status { get; }

    /// <summary>The description after the status code, if any.</summary>
    public ReadOnlySpan<byte> Description { get; }

    /// <summary>The current header's name.</summary>
    public ReadOnlySpan<byte> Name { get; private set; }

    /// <summary>The current header's value: everything after the colon and one optional space, as written.</summary>
    public ReadOnlySpan<byte> Value { get; private set; }

    /// <summary>Moves to the next header.</summary>
    /// <returns><see langword="false"/> at the blank line that ends the block.</returns>
    /// <exception cref="FormatException">A header line is malformed.</exception>
    public bool MoveNext()
    {
        var lineEnd = _rest.IndexOf("\r\n"u8);
        if (lineEnd <= 0)
        {
            // The blank line (or a block without one, which nats-server never forwards): the end.
            _rest = default;
            return false;
        }

        var line = _rest[..lineEnd];
        _rest = _rest[(lineEnd + 2)..];
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            throw new FormatException("A message's header block has a line without 'name: value'.");
        }

        Name = line[..colon];
        var value = line[(colon + 1)..];
        Value = !value.IsEmpty && value[0] == (byte)' ' ? value[1..] : value;
        return true;
    }
}
