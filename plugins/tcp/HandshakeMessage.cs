namespace Plexus.Transport.Tcp;

/// <summary>One received handshake message: its version and kind, and its body (at most 1024 bytes).</summary>
internal readonly record struct HandshakeMessage(byte Version, byte Kind, byte[] Body);
