namespace Plexus.Discovery.Etcd;

/// <summary>
/// What this process wants etcd to hold for one registered instance. <see cref="EtcdSession"/> owns it: every field is
/// read and written under the session's lock, and the session's loop writes it to etcd whenever
/// <see cref="Version"/> is ahead of <see cref="WrittenVersion"/>.
/// </summary>
internal sealed class EtcdRegistration(string key, Instance instance)
{
    /// <summary>The instance's key.</summary>
    public string Key { get; } = key;

    /// <summary>The instance as it should be published.</summary>
    public Instance Instance { get; set; } = instance;

    /// <summary>The session's change number of the last change to this registration.</summary>
    public long Version { get; set; }

    /// <summary>The change number last written to etcd under the current lease; 0 when not written under it.</summary>
    public long WrittenVersion { get; set; }

    /// <summary>Disposed by its owner: no longer published.</summary>
    public bool Disposed { get; set; }

    /// <summary>Replaced by a later registration of the same instance in this process.</summary>
    public bool Replaced { get; set; }

    /// <summary>Whether the session should write it.</summary>
    public bool Dirty => !Disposed && !Replaced && Version > WrittenVersion;
}
