// Named apart from the real plugin, which the host also has beside it, so that the refusal is the version's.
[assembly: Plexus.PlexusPlugin("affinity-future")]
