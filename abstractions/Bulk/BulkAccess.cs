namespace Plexus;

/// <summary>What peers may do with a registered region.</summary>
[Flags]
public enum BulkAccess
{
    /// <summary>Peers may read it.</summary>
    Read = 1,

    /// <summary>Peers may write it.</summary>
    Write = 2,

    /// <summary>Peers may read and write it.</summary>
    ReadWrite = Read | Write,
}
