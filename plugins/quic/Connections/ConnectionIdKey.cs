using System.Runtime.InteropServices;

namespace Plexus.Transport.Quic.Connections;

/// <summary>A QUIC connection id (up to 20 bytes) as a dictionary key, without allocating.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct ConnectionIdKey : IEquatable<ConnectionIdKey>
{
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;
    private readonly int _length;

    public ConnectionIdKey(ReadOnlySpan<byte> id)
    {
        Span<byte> padded = stackalloc byte[20];
        padded.Clear();
        id[..Math.Min(id.Length, 20)].CopyTo(padded);
        _a = BitConverter.ToUInt64(padded);
        _b = BitConverter.ToUInt64(padded[8..]);
        _c = BitConverter.ToUInt32(padded[16..]);
        _length = id.Length;
    }

    public bool Equals(ConnectionIdKey other) => _a == other._a && _b == other._b && _c == other._c && _length == other._length;

    public override bool Equals(object? obj) => obj is ConnectionIdKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _length);
}
