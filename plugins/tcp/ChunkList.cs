namespace Plexus.Transport.Tcp;

/// <summary>
/// The response writer's ended messages, in order: a growable array of structs, read and updated in place. Clearing
/// only resets the count (a handler that flushes every message clears it every time); the buffers the old entries
/// name are pooled, so holding on to them a little longer costs nothing.
/// </summary>
internal sealed class ChunkList
{
    // Room for a unary answer and one more: a writer that flushes every message never needs more, and one that ends
    // many before a flush doubles it as it goes and keeps what it grew to.
    private ResponseChunk[] _items = new ResponseChunk[2];

    /// <summary>How many messages are held.</summary>
    public int Count { get; private set; }

    /// <summary>The message at <paramref name="index"/>.</summary>
    public ref ResponseChunk this[int index] => ref _items[index];

    /// <summary>The latest message.</summary>
    public ref ResponseChunk Last => ref _items[Count - 1];

    /// <summary>Adds a message at the end.</summary>
    public void Add(in ResponseChunk chunk)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = chunk;
    }

    /// <summary>Forgets every message.</summary>
    public void Clear() => Count = 0;
}
