using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Plexus.Router.Affinity;

/// <summary>
/// Block hashes as the <c>prefix</c> strategy reads them. A block is a run of content (say, 16 tokens); its hash
/// covers the previous block's hash and its own bytes, so one hash names the whole prefix up to and including it,
/// as a prefix cache keys its blocks. Callers hash a request's blocks in order and send them in the
/// <see cref="AffinityHeaders.PrefixBlocks"/> header; services publish the hashes they hold under
/// <see cref="AffinityHeaders.PrefixBlocksMetadata"/>. Both sides must use the same hash; this one is a convenience.
/// </summary>
public static class PrefixBlocks
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>The hash of a block, chained over the hash of the block before it (0 for the first block).</summary>
    /// <param name="previous">The previous block's hash, or 0.</param>
    /// <param name="content">The block's content.</param>
    /// <returns>The block's hash.</returns>
    public static ulong Chain(ulong previous, ReadOnlySpan<byte> content)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, previous);
        var hash = FnvOffset;
        foreach (var b in prefix)
        {
            hash = (hash ^ b) * FnvPrime;
        }

        foreach (var b in content)
        {
            hash = (hash ^ b) * FnvPrime;
        }

        // FNV's low bits mix poorly; a final avalanche spreads every input bit over the whole word.
        return HashMix.Finish(hash);
    }

    /// <summary>Writes hashes as the header and the metadata carry them: 16 lower-case hex digits each, comma-separated.</summary>
    /// <param name="hashes">The hashes, in prefix order for a request.</param>
    /// <returns>The text.</returns>
    public static string Format(ReadOnlySpan<ulong> hashes)
    {
        var text = new StringBuilder(hashes.Length * 17);
        for (var i = 0; i < hashes.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.Append(hashes[i].ToString("x16", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads comma-separated hex hashes into <paramref name="destination"/> without allocating; reading stops at the
    /// first malformed entry or when the destination is full.
    /// </summary>
    /// <param name="text">The header or metadata value.</param>
    /// <param name="destination">Where the hashes go.</param>
    /// <param name="malformed">Whether an entry that is not 1 to 16 hex digits stopped the reading.</param>
    /// <returns>How many hashes were read.</returns>
    public static int Parse(ReadOnlySpan<char> text, Span<ulong> destination, out bool malformed)
    {
        // One pass over the characters, by hand: a request's header is read on every pick, and the general number
        // parser costs several times as much per entry.
        malformed = false;
        var count = 0;
        ulong value = 0;
        var digits = 0;
        var spaceAfter = false;
        for (var i = 0; i <= text.Length && count < destination.Length; i++)
        {
            var c = i < text.Length ? text[i] : ',';
            if (c == ',')
            {
                if (digits > 0)
                {
                    destination[count++] = value;
                }

                value = 0;
                digits = 0;
                spaceAfter = false;
                continue;
            }

            if (c == ' ')
            {
                spaceAfter = digits > 0;
                continue;
            }

            var nibble = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => -1,
            };
            if (nibble < 0 || digits == 16 || spaceAfter)
            {
                malformed = true;
                break;
            }

            value = (value << 4) | (uint)nibble;
            digits++;
        }

        return count;
    }
}
